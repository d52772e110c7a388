"""A dbt Python model returning an unfitted Pipeline: dbt_learn fits it on the frame dbt.ref() loaded."""
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "label", "id_columns": ["id"], "holdout_size": 0})
    dbt.ref("labels_training")
    return make_pipeline(StandardScaler(), DecisionTreeClassifier(random_state=0))
