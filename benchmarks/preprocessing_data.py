"""Tables of the preprocessing benchmark, generated inside Postgres (created once, like benchmarks/data.py).

Part 2 needs two tables with the same rows: `ptext_<rows>` with three text columns (region, store, product: 20, 200
and 2,000 distinct values, skewed so that the lowest codes are the most frequent, as real categories are) and 7 float
features, and `pcodes_<rows>` with those three columns already encoded as integer codes. Part 1 reuses the 10-feature
numeric tables of benchmarks/data.py.
"""

from .data import SCHEMA

FLOATS = [f"f{i}" for i in range(1, 8)]
# (column, distinct values, prefix of its text values)
CATEGORIES = (("region", 20, "region_"), ("store", 200, "store_"), ("product", 2000, "product_"))


def text_table(rows):
    return f"ptext_{rows}"


def codes_table(rows):
    return f"pcodes_{rows}"


def _exists(conn, table):
    return conn.execute("select to_regclass(%s) is not null", [f"{SCHEMA}.{table}"]).fetchone()[0]


def create_categorical(conn, rows):
    """ptext_<rows> and pcodes_<rows> (once): y is a linear function of the floats plus a per-level shift of each
    category and noise; the code of a level is floor(levels * u^3), u uniform, so level 0 is the most frequent."""
    text, codes = text_table(rows), codes_table(rows)
    if _exists(conn, text) and _exists(conn, codes):
        return
    conn.execute(f"create schema if not exists {SCHEMA}")
    base = f"{SCHEMA}.pbase_{rows}"
    conn.execute(f"drop table if exists {base}")
    conn.execute("select setseed(0.17)")
    floats = ", ".join(f"random() * 2 - 1 as {name}" for name in FLOATS)
    levels = ", ".join(f"floor({n} * power(random(), 3))::int as {name}" for name, n, _ in CATEGORIES)
    conn.execute(f"create table {base} as select g as id, {floats}, {levels}, random() - 0.5 as noise "
                 f"from generate_series(1, {rows}) as g")
    signal = " + ".join(f"{(i % 5) - 2} * {name}" for i, name in enumerate(FLOATS))
    shifts = " + ".join(f"0.3 * ((({name} * {k}) % 5) - 2)" for (name, _, _), k in zip(CATEGORIES, (7, 11, 13)))
    target = f"({signal}) + {shifts} + noise"
    columns = ", ".join(FLOATS)
    as_text = ", ".join(f"'{prefix}' || {name} as {name}" for name, _, prefix in CATEGORIES)
    as_codes = ", ".join(name for name, _, _ in CATEGORIES)
    for table, categories in ((text, as_text), (codes, as_codes)):
        conn.execute(f"drop table if exists {SCHEMA}.{table}")
        conn.execute(f"create table {SCHEMA}.{table} as select id, {columns}, {categories}, {target} as y "
                     f"from {base} order by id")
        conn.execute(f"create unique index {table}_id on {SCHEMA}.{table} (id)")
        conn.execute(f"analyze {SCHEMA}.{table}")
    conn.execute(f"drop table {base}")


def distinct_counts(conn, rows):
    """The distinct values of each text column, as generated (the smoke size may not reach every level)."""
    select = ", ".join(f"count(distinct {name})" for name, _, _ in CATEGORIES)
    counts = conn.execute(f"select {select} from {SCHEMA}.{text_table(rows)}").fetchone()
    return {name: count for (name, _, _), count in zip(CATEGORIES, counts)}
