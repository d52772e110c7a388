"""The streaming benchmark of `make bench` cannot rot: its quick mode scores small tables in many chunks, one thread
and two, and prints every streaming target of issue 11 as met or not met."""

import json
import os
import re
import subprocess
import sys

from .harness import REPO


def test_streaming_quick_mode_reports_every_target(tmp_path):
    out = tmp_path / "streaming.md"
    completed = subprocess.run([sys.executable, "-m", "benchmarks.streaming", "--quick", "--out", str(out)], cwd=REPO,
                               env=os.environ.copy(), capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = out.read_text()
    runs = json.loads(out.with_suffix(".json").read_text())
    scored = [run for run in runs if "rows" in run]
    assert {(run["rows"], run["chunk_mb"]) for run in scored} == {(r, c) for r in (20000, 60000) for c in (0.5, 64)}
    assert all(run["seconds"] > 0 and run["growth"] is not None for run in scored)
    targets = report.split("## Targets (issue 11)", 1)[1]
    rows = re.findall(r"^\| (.+?) \| (.+?) \| (met|not met) \|$", targets, flags=re.MULTILINE)
    names = [name for name, _, _ in rows]
    assert any(name.startswith("memory bounded by the setting") for name in names)
    assert any(name.startswith("time linear in the rows") for name in names)
    assert {name.split(",")[1].strip() for name in names if name.startswith("both cores")} == {
        "linear", "hist_gradient_boosting"}
