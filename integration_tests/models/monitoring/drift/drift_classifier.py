"""A Python model with a text feature (channel): its baseline has category shares, and its predictions have class
shares and probability_false / probability_true histograms."""
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "converted", "id_columns": ["id"], "exclude_columns": ["y"],
                                              "holdout_size": 0.25})
    dbt.ref("drift_training")
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["channel"]), remainder="passthrough")
    return make_pipeline(encode, LogisticRegression())
