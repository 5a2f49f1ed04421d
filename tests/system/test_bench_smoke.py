"""The benchmarks themselves run: bench/run.py --json at a tiny size.

Real processes and sockets on 127.0.0.1, as in the full bench; no timing
assertions, only that every section is there and every ratio is a positive number.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_bench_runs_and_reports_every_section():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--json", "--items", "300", "--runs", "1",
         "--catch-up", "50", "--live-posts", "10", "--mesh-peers", "3", "--mesh-posts", "3"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)

    expected = {
        "first_join": ("wire_bytes", "compacted_bytes", "bytes_ratio", "time_ratio", "automerge_sync_bytes"),
        "catch_up": ("wire_bytes", "raw_change_bytes", "bytes_ratio"),
        "open": ("first_paint_s", "automerge_load_s", "ratio"),
        "live": ("p50_ms", "p99_ms"),
        "memory": ("peak_rss_mb", "automerge_rss_mb", "ratio"),
        "mesh": ("convergence_s", "bytes_per_post"),
    }
    for section, keys in expected.items():
        assert section in result, section
        for key in keys:
            assert key in result[section], f"{section}.{key}"

    for section, key in [("first_join", "bytes_ratio"), ("first_join", "time_ratio"), ("catch_up", "bytes_ratio"),
                         ("open", "ratio"), ("memory", "ratio")]:
        assert _positive(result[section][key]), (section, key, result[section][key])
    for section, key in [("first_join", "wire_bytes"), ("first_join", "compacted_bytes"),
                         ("first_join", "automerge_sync_bytes"), ("catch_up", "wire_bytes"),
                         ("catch_up", "raw_change_bytes"), ("live", "p50_ms"), ("live", "p99_ms"),
                         ("memory", "peak_rss_mb"), ("memory", "automerge_rss_mb"), ("mesh", "bytes_per_post")]:
        assert _positive(result[section][key]), (section, key, result[section][key])

    assert result["live"]["missing"] == 0
    assert result["mesh"]["converged"] is True
    assert set(result["budgets"]) >= {"first_join.bytes_ratio", "first_join.time_ratio", "catch_up.bytes_ratio",
                                      "open.ratio", "live.p50_ms", "memory.ratio"}
