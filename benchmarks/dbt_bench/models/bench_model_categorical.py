"""The categorical variant: a dbt Python model returning the same Pipeline as benchmarks/estimators.py (one-hot
encoded categories, floats passed through), fitted by dbt_learn inside Postgres on one pass over every row."""
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder


def model(dbt, session):
    dbt.config(materialized="ml_train",
               meta={"target": "y", "id_columns": ["id"], "holdout_size": 0, "retrain_policy": "always"})
    frame = dbt.source("bench", "categorical")
    categories = [name for name in frame.columns if name.startswith("c")]
    kind = dbt.config.get("meta")["bench_kind"]
    estimator = LinearRegression() if kind == "linear" else HistGradientBoostingRegressor(max_iter=50, random_state=0)
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore", sparse_output=False), categories),
                                     remainder="passthrough")
    return make_pipeline(encode, estimator)
