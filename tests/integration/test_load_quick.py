"""The load benchmark of `make bench` (issue 13, Deliver 6) cannot rot: its quick mode runs 3 sequential
train-and-score cycles and 2 parallel ones on different models, and every check holds: one version per data state,
(model, version) unique, no duplicate fingerprint, no leftover relation, scores from the newest version. (The
same-model phase, 4 concurrent runs of one model, is left to the full benchmark.)"""

import json
import os
import subprocess
import sys

from .harness import REPO


def test_load_quick_mode_keeps_the_registry_exact(tmp_path, dbt_conn):
    out = tmp_path / "load.md"
    completed = subprocess.run([sys.executable, "-m", "benchmarks", "load", "--quick", "--out", str(out)], cwd=REPO,
                               env=os.environ.copy(), capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    results = json.loads(out.with_suffix(".json").read_text())
    assert [(run["phase"], run["model"], run["ok"]) for run in results["runs"]] == [
        ("sequential", 1, True), ("sequential", 1, True), ("sequential", 1, True), ("parallel", 1, True),
        ("parallel", 2, True)]
    assert sorted((row[0], row[1]) for row in results["registry"]) == [
        ("load_model_1", v) for v in (1, 2, 3, 4)] + [("load_model_2", 1)]
    assert [cycle["cycle"] for cycle in results["cycles"]] == ["sequential 1", "sequential 2", "sequential 3",
                                                               "parallel"]
    assert all(cycle["rss"] > 0 and cycle["anon"] > 0 for cycle in results["cycles"])
    assert results["cycles"][-1]["served"] == {"load_model_1": 4, "load_model_2": 1}
    for check in results["checks"]:
        assert check["met"], check
    report = out.read_text()
    assert "| no leftover __dbt_tmp / __dbt_backup relations | none | met |" in report
    # The scratch schema is dropped; its registry rows stay (append-only).
    schema = results["schema"]
    assert dbt_conn.execute("select to_regnamespace(%s)", [schema]).fetchone()[0] is None
