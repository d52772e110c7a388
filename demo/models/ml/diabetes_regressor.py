"""A dbt Python model trained inside Postgres: it returns an unfitted scikit-learn Pipeline and dbt_learn fits it on
the training view with the configured target, evaluates it on a holdout and registers the fitted pipeline."""
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def model(dbt, session):
    dbt.config(
        materialized="ml_train",
        meta={"target": "disease_progression", "id_columns": ["patient_id"]},
    )
    dbt.ref("diabetes_training")  # the DataFrame dbt_learn fits on; columns other than target and ids are features
    return make_pipeline(StandardScaler(), RidgeCV(alphas=[0.1, 1.0, 10.0]))
