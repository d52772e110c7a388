"""Synthetic benchmark tables, generated inside Postgres (fast, and identical for every pipeline)."""

from dataclasses import dataclass

SCHEMA = "dbt_learn_bench"
_LEVELS = (4, 12, 30)  # categories per categorical column


@dataclass(frozen=True)
class Dataset:
    rows: int
    features: int
    task: str  # "regression" or "classification"
    categorical: int = 0  # text columns c1..cN on top of the float features

    @property
    def table(self):
        return f"{self.task[:3]}_{self.rows}_{self.features}" + (f"_c{self.categorical}" if self.categorical else "")

    @property
    def label(self):
        return f"{self.task[:3]} {self.rows:,}×{self.features}" + (f"+{self.categorical}cat" if self.categorical
                                                                  else "")

    @property
    def feature_names(self):
        return [f"f{i}" for i in range(1, self.features + 1)]

    @property
    def categorical_names(self):
        return [f"c{i}" for i in range(1, self.categorical + 1)]

    @property
    def matrix_bytes(self):
        """The float64 feature matrix (categorical columns one-hot encoded as scikit-learn would)."""
        return 8 * self.rows * (self.features + sum(_LEVELS[:self.categorical]))


def create(conn, dataset):
    """Create (once) id, f1..fN, c1..cK and y: y is a fixed function of the features plus noise, thresholded for
    classification; the categories shift y by a per-level amount. A unique index on id serves the online lookups."""
    exists = conn.execute("select to_regclass(%s) is not null", [f"{SCHEMA}.{dataset.table}"]).fetchone()[0]
    if not exists:
        conn.execute(f"create schema if not exists {SCHEMA}")
        conn.execute("select setseed(0.42)")
        features = ", ".join(f"random() * 2 - 1 as {name}" for name in dataset.feature_names)
        codes = "".join(f", floor(random() * {levels})::int as code{i}"
                        for i, levels in enumerate(_LEVELS[:dataset.categorical], 1))
        signal = " + ".join(f"{(i % 7) - 3} * {name}" for i, name in enumerate(dataset.feature_names))
        signal += "".join(f" + 0.1 * ((code{i} * 7) % 5 - 2)" for i in range(1, dataset.categorical + 1))
        target = f"({signal}) + (random() - 0.5)"
        if dataset.task == "classification":
            target = f"(({target}) > 0)::int"
        categories = "".join(f", 'k' || code{i} as c{i}" for i in range(1, dataset.categorical + 1))
        conn.execute(f"create table {SCHEMA}.{dataset.table} as select id, {', '.join(dataset.feature_names)}"
                     f"{categories}, {target} as y from (select g as id, {features}{codes} "
                     f"from generate_series(1, {dataset.rows}) as g) s")
    conn.execute(f"create unique index if not exists {dataset.table}_id on {SCHEMA}.{dataset.table} (id)")
    conn.execute(f"analyze {SCHEMA}.{dataset.table}")
