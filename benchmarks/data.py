"""Synthetic benchmark tables, generated inside Postgres (fast, and identical for every pipeline)."""

from dataclasses import dataclass

SCHEMA = "dbt_learn_bench"


@dataclass(frozen=True)
class Dataset:
    rows: int
    features: int
    task: str  # "regression" or "classification"

    @property
    def table(self):
        return f"{self.task[:3]}_{self.rows}_{self.features}"

    @property
    def feature_names(self):
        return [f"f{i}" for i in range(1, self.features + 1)]

    @property
    def matrix_bytes(self):
        return 8 * self.rows * self.features


def create(conn, dataset):
    """Create (once) id, f1..fN and y: y is a fixed linear function plus noise, thresholded for classification."""
    exists = conn.execute("select to_regclass(%s) is not null", [f"{SCHEMA}.{dataset.table}"]).fetchone()[0]
    if exists:
        return
    conn.execute(f"create schema if not exists {SCHEMA}")
    conn.execute("select setseed(0.42)")
    features = ", ".join(f"random() * 2 - 1 as {name}" for name in dataset.feature_names)
    signal = " + ".join(f"{(i % 7) - 3} * {name}" for i, name in enumerate(dataset.feature_names))
    target = f"({signal}) + (random() - 0.5)"
    if dataset.task == "classification":
        target = f"(({target}) > 0)::int"
    conn.execute(f"create table {SCHEMA}.{dataset.table} as select id, {', '.join(dataset.feature_names)}, "
                 f"{target} as y from (select g as id, {features} from generate_series(1, {dataset.rows}) as g) s")
    conn.execute(f"analyze {SCHEMA}.{dataset.table}")
