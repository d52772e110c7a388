"""`make bench` cannot rot: its quick mode runs every pipeline on a small table and writes the table and chart."""

import os
import subprocess
import sys

from .harness import REPO


def test_benchmark_quick_mode_writes_a_table_and_a_chart(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--tasks", "regression",
                                "--out", str(tmp_path)], cwd=REPO, env=os.environ.copy(), capture_output=True,
                               text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    table = (tmp_path / "results.md").read_text()
    for pipeline in ("A dbt_learn (calls)", "A dbt_learn (dbt run)", "B pandas", "C psycopg COPY", "D floor"):
        assert f"| reg 2,000×5 | linear | {pipeline} |" in table
    assert (tmp_path / "results.png").stat().st_size > 10_000
