"""The estimators every pipeline fits: fixed seeds, the same hyperparameters everywhere."""

ESTIMATORS = {
    "regression": {
        "linear": ("linear_regression", {}),
        "hist_gradient_boosting": ("hist_gradient_boosting_regressor", {"max_iter": 50}),
    },
    "classification": {
        "linear": ("logistic_regression", {"max_iter": 200}),
        "hist_gradient_boosting": ("hist_gradient_boosting_classifier", {"max_iter": 50}),
    },
}


def make(task, kind, categorical_names=()):
    """The scikit-learn object for a client-side pipeline (dbt_learn resolves the same short name itself). With
    categorical columns: one-hot encode them, pass the floats through - the same Pipeline the dbt Python model
    returns (benchmarks/dbt_bench/models/bench_model_categorical.py)."""
    from dbt_learn import build_estimator

    algorithm, params = ESTIMATORS[task][kind]
    estimator = build_estimator("benchmark", algorithm, params, random_state=0)
    if not categorical_names:
        return estimator
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                                      list(categorical_names)), remainder="passthrough")
    return make_pipeline(encode, estimator)
