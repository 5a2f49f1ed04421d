"""bench/search.py runs at a tiny size and reports every query with positive ratios; no timing
is asserted, only that the script works and its matches agree with a plain scan (it checks that
itself, per query)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_search_bench_runs_and_reports_every_query():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "search.py"), "--json", "--items", "300", "--repeat", "1"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["posts"] == 300 and result["budget_ms"] == 200
    assert [row["query"] for row in result["queries"]][0] == "zephyr"
    for row in result["queries"]:
        assert row["budget_ratio"] > 0 and row["scan_ratio"] > 0, row
    assert {row["query"]: row["matches"] for row in result["queries"]}["xylophone"] == 0
