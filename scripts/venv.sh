# Sourced by scripts/run and scripts/test: make .venv with a Python automerge supports.
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.12 python3.11 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 12)))' 2>/dev/null; then
      PY="$candidate"; break
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "circle needs Python 3.10-3.12 (automerge 1.0.0rc1 has wheels for those only)" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
