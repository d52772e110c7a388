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


def make(task, kind):
    """The scikit-learn object for a client-side pipeline (dbt_learn resolves the same short name itself)."""
    from dbt_learn import build_estimator

    algorithm, params = ESTIMATORS[task][kind]
    return build_estimator("benchmark", algorithm, params, random_state=0)
