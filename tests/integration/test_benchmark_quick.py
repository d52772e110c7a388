"""`make bench` cannot rot: its quick mode runs every pipeline on small tables and writes the report and chart."""

import json
import os
import subprocess
import sys

from .harness import REPO


def test_benchmark_quick_mode_writes_the_report_and_a_chart(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--tasks", "regression",
                                "--out", str(tmp_path)], cwd=REPO, env=os.environ.copy(), capture_output=True,
                               text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    table = (tmp_path / "results.md").read_text()
    for pipeline in ("A dbt_learn (in database)", "A dbt_learn (dbt run, wall clock)", "B pandas", "C psycopg COPY",
                     "D floor"):
        assert f"| reg 2,000×5 | linear | {pipeline} |" in table
        assert f"| reg 2,000×5+3cat | linear | {pipeline} |" in table  # the dbt Python model with a Pipeline
    results = json.loads((tmp_path / "results.json").read_text())
    online = {(row["pipeline"], row["clients"]): row for row in results["online"]}
    assert set(online) == {(p, c) for p in ("E predict() in SQL", "E microservice (Flask)") for c in (1, 2)}
    assert all(row["throughput"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"] for row in online.values())
    memory = results["memory"][0]
    assert memory["peak_backend"] > memory["baseline"] > 0
    assert "(F) remote link: skipped" in table
    assert (tmp_path / "results.png").stat().st_size > 10_000
    # Monitoring at scale, in small: full rebuild, 1 % more rows, incremental run equal to a rebuild.
    monitoring = (tmp_path / "monitoring.md").read_text()
    assert "| incremental, after 1 % new rows |" in monitoring
    assert "The incremental buckets equal a full rebuild of the same state: True." in monitoring


def test_bench_core_quick_mode_reports_every_target(tmp_path):
    from benchmarks.core import TASKS, markdown, targets
    from benchmarks.estimators import ESTIMATORS

    completed = subprocess.run([sys.executable, "-m", "benchmarks.core", "--quick", "--out", str(tmp_path)], cwd=REPO,
                               env=os.environ.copy(), capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    results = json.loads((tmp_path / "core.json").read_text())
    table = (tmp_path / "core.md").read_text()
    assert table == markdown(results)
    names = [name for name, _, _ in targets(results)]
    expected = [f"{label} {kind}: {what}" for task in TASKS for kind in ESTIMATORS[task]
                for label in [f"{task[:3]} 20,000×10"]
                for what in ("ml_train + ml_score node time ≤ 1.2× the client script",
                             "`dbt run` wall clock ≤ 1.5× the client script",
                             "peak training backend memory growth ≤ 3× the float64 matrix")]
    expected += [f"predict() {kind}: {what}" for kind, limit in (("linear", "0.5"), ("hist_gradient_boosting", "1"))
                 for what in (f"single-row p50 < {limit} ms", "throughput ≥ 3× the microservice at 16 clients")]
    assert names == expected
    for name in expected:  # every target has its row, with a measured figure and a verdict
        row = next(line for line in table.splitlines() if line.startswith(f"| {name} |"))
        assert row.endswith(("| met |", "| not met |")) and "not measured" not in row, row
    for batch in results["batch"]:  # the figures come from real runs
        assert 0 < batch["client_total"] and 0 < batch["node_train"] and 0 < batch["node_score"] < batch["wall"]


def test_partial_fit_quick_mode_writes_its_table(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "benchmarks.partial_fit", "--quick", "--out",
                                str(tmp_path / "partial_fit.md")], cwd=REPO, env=os.environ.copy(),
                               capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    table = (tmp_path / "partial_fit.md").read_text()
    assert "| 20,000 | in memory | - | - |" in table
    runs = json.loads((tmp_path / "partial_fit.json").read_text())
    chunked = [run for run in runs if run["partial_fit"]]
    assert [run["rows"] for run in chunked] == [20_000, 60_000]
    for run in chunked:  # every row is either fit or held out; the tiny chunk setting makes many chunks
        assert run["training_rows"] + run["holdout_rows"] == run["rows"] and run["chunks"] > 5
        assert run["growth"] > 0 and run["r2"] > 0.9
    for name in ("partial_fit memory bounded by the chunk", "partial_fit holdout r2 within 0.02"):
        assert next(line for line in table.splitlines() if line.startswith(f"| {name}")).endswith(
            ("| met |", "| not met |"))
