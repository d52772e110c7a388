"""The automatic preprocessing of SQL models: a scikit-learn ColumnTransformer chosen from the feature kinds and the
estimator's family, persisted with the estimator as one Pipeline, so scoring applies exactly the training transform.

Rules (README "Preprocessing"):
- numeric columns: NULLs imputed (mean; SimpleImputer's median cost 4.8 s at 1M x 10) with a missing-value indicator
  for the columns that had NULLs in training,
  unless the estimator accepts NaN itself (tree ensembles, HistGradientBoosting, XGBoost, LightGBM); standardised
  for the families that depend on scale (linear models, SVMs, neighbours, neural networks, clustering, ...);
- datetime columns: split into parts (year, month, day, day of week, day of year, hour, and days since 1970 for
  trend), then treated as numeric;
- categorical columns: one-hot (ordinal codes for tree families), at most ``max_categories`` output columns per
  column with the rarest categories merged into one "infrequent" (other) column; NULL is a category of its own; a
  category unseen in training gets zero weight (all one-hot columns 0; code -1 for trees); more than
  ``max_distinct`` distinct values is refused as an identifier or free text.
"""

import numpy as np

from .errors import ConfigurationError, TrainingDataError

DEFAULTS = {"impute": "mean", "missing_indicator": True, "scale": "auto", "categorical": "auto",
            "max_categories": 50, "max_distinct": 10_000,
            "datetime_parts": ["year", "month", "day", "day_of_week", "day_of_year", "hour", "days_since_1970"]}
_IMPUTE = ("median", "mean", "most_frequent")
_PARTS = ("year", "month", "day", "day_of_week", "day_of_year", "hour", "minute", "days_since_1970")
# Families whose fit depends on the scale of the inputs, by the estimator's module.
_SCALED_MODULES = ("sklearn.linear_model", "sklearn.svm", "sklearn.neighbors", "sklearn.neural_network",
                   "sklearn.gaussian_process", "sklearn.kernel_ridge", "sklearn.cluster", "sklearn.mixture",
                   "sklearn.semi_supervised", "sklearn.covariance", "sklearn.cross_decomposition",
                   "sklearn.discriminant_analysis")
_TREE_MODULES = ("sklearn.tree", "sklearn.ensemble", "xgboost", "lightgbm")


def options(model, value):
    """meta.preprocessing ('auto', 'off', or a mapping overriding DEFAULTS) as a full mapping, or None for off."""
    if value in (None, "auto", True):
        return dict(DEFAULTS)
    if value in ("off", False):
        return None
    if not isinstance(value, dict):
        raise ConfigurationError(f"model '{model}': meta.preprocessing must be 'auto', 'off' or a mapping of "
                                 f"{', '.join(DEFAULTS)}; got {value!r}.")
    unknown = sorted(set(value) - set(DEFAULTS))
    if unknown:
        raise ConfigurationError(f"model '{model}': unknown meta.preprocessing option '{unknown[0]}'; the options "
                                 f"are {', '.join(DEFAULTS)}.")
    merged = {**DEFAULTS, **value}
    checks = [
        (merged["impute"] in _IMPUTE, f"impute must be one of {', '.join(_IMPUTE)}"),
        (isinstance(merged["missing_indicator"], bool), "missing_indicator must be true or false"),
        (merged["scale"] in ("auto", True, False), "scale must be 'auto', true or false"),
        (merged["categorical"] in ("auto", "onehot", "ordinal"), "categorical must be 'auto', 'onehot' or 'ordinal'"),
        (isinstance(merged["max_categories"], int) and merged["max_categories"] >= 2, "max_categories must be >= 2"),
        (isinstance(merged["max_distinct"], int) and merged["max_distinct"] >= 2, "max_distinct must be >= 2"),
        (isinstance(merged["datetime_parts"], list) and merged["datetime_parts"]
         and set(merged["datetime_parts"]) <= set(_PARTS), f"datetime_parts must list some of {', '.join(_PARTS)}"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigurationError(f"model '{model}': meta.preprocessing: {message}.")
    return merged


def family(estimator):
    """'tree' (no scaling, ordinal categories, NaN passed through when accepted), 'scaled' or 'plain'."""
    module = type(estimator).__module__
    if module.startswith(_TREE_MODULES):
        return "tree"
    if module.startswith(_SCALED_MODULES):
        return "scaled"
    return "plain"


def build(model, estimator, features, settings):
    """The Pipeline (preprocess -> model) for these features, or the bare estimator when preprocessing is off."""
    if settings is None:
        return estimator
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.utils import get_tags

    tags = get_tags(estimator).input_tags
    kind = family(estimator)
    scale = kind == "scaled" if settings["scale"] == "auto" else bool(settings["scale"])
    ordinal = settings["categorical"] == "ordinal" or (settings["categorical"] == "auto" and kind == "tree")
    numeric_steps = _numeric_steps(settings, impute=not tags.allow_nan, scale=scale)
    if all(feature["kind"] == "numeric" for feature in features):
        # Numbers only: a flat Pipeline on the float64 matrix, no DataFrame and no ColumnTransformer (a row-level
        # predict of a linear model took 7.8 ms through a one-row frame, 1.2 ms this way).
        return Pipeline([*(numeric_steps or [("preprocess", "passthrough")]), ("model", estimator)])
    # One transformer per kind, over all its columns: per-column transformers cost 1.4 s at 1M x 10, grouped 0.3 s.
    by_kind = {kind: [f["name"] for f in features if f["kind"] == kind] for kind in ("numeric", "datetime",
                                                                                   "categorical")}
    transformers = []
    if by_kind["numeric"]:
        transformers.append(("numeric", _chain(numeric_steps), by_kind["numeric"]))
    if by_kind["datetime"]:
        from ._preprocessing_parts import DateTimeParts

        transformers.append(("datetime", _chain([("parts", DateTimeParts(settings["datetime_parts"])),
                                                 *numeric_steps]), by_kind["datetime"]))
    if by_kind["categorical"]:
        transformers.append(("categorical", _encoder(settings, ordinal, tags.sparse), by_kind["categorical"]))
    preprocess = ColumnTransformer(transformers, sparse_threshold=0.3 if tags.sparse else 0.0,
                                   verbose_feature_names_out=False)
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


def _numeric_steps(settings, *, impute, scale):
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    steps = []
    if impute:
        steps.append(("impute", SimpleImputer(strategy=settings["impute"], add_indicator=settings["missing_indicator"],
                                              keep_empty_features=True)))
    if scale:
        # After the imputer, which always returns a new matrix (scoring's _imputed too), standardise it in place:
        # the same arithmetic on one matrix less (1x X at the fit). Alone, it would overwrite the caller's matrix.
        steps.append(("scale", StandardScaler(copy=not impute)))
    return steps


def fit(estimator, X, y=None, private_input=False):
    """``estimator.fit(X, y)``, with fewer copies of X for a flat numeric Pipeline that starts with the imputer, and
    bit for bit the same fitted steps (tests/unit/test_speed_levers.py):
    - the imputer is fitted on X itself: its fit only reads, yet scikit-learn validates a copy first;
    - a matrix without NULLs goes on as one copy (scoring._imputed, as when scoring) instead of the transform's
      validated copy and its missing-indicator hstack; a ``private_input`` (a holdout split's own copy of the rows,
      or a matrix its owner no longer reads) is filled, scaled and centered in place, without any copy;
    - a final estimator with ``copy_X`` (LinearRegression, Ridge, Lasso, ...) centers that new matrix in place
      (LinearRegression's fit 2.2x X -> 1.2x).
    At 1M x 10 (no NULLs) the LinearRegression Pipeline's fit took 0.58 s instead of 0.79 (best of 6) and peaked at
    2.2x X above X instead of 3.2x. The flags are restored afterwards, so the version's parameters and pickle are as
    configured; X itself is only written when it is a ``private_input``."""
    if not _own_numeric_pipeline(estimator) or not isinstance(X, np.ndarray):
        return estimator.fit(X) if y is None else estimator.fit(X, y)
    first = estimator.steps[0][1]
    from .scoring import _imputed

    name, final = estimator.steps[0][0], final_estimator(estimator)
    overwrite = getattr(final, "copy_X", None) is True
    try:
        first.copy = False
        first.fit(X)
        done, Xt = _imputed(first, X, copy=not private_input)
        if not done:
            first.copy = bool(not private_input)
            Xt = first.transform(X)
        first.copy = True
        estimator.steps[0] = (name, "passthrough")  # fitted above; the rest of the Pipeline fits on its output
        if overwrite:
            final.copy_X = False
        return estimator.fit(Xt) if y is None else estimator.fit(Xt, y)
    finally:
        first.copy = True
        estimator.steps[0] = (name, first)
        if overwrite:
            final.copy_X = True


def _own_numeric_pipeline(estimator):
    """Whether this is the flat Pipeline ``build`` makes for numbers with the imputer (a Python model's own Pipeline
    may hold steps that keep or share their input: it is fitted as it is)."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    if not is_pipeline(estimator):
        return False
    kinds = {"impute": SimpleImputer, "scale": StandardScaler}
    names = [name for name, _ in estimator.steps]
    return names in (["impute", "model"], ["impute", "scale", "model"]) and estimator.steps[0][1].copy is True \
        and all(type(step) is kinds[name] for name, step in estimator.steps[:-1])


def _chain(steps):
    from sklearn.pipeline import Pipeline

    return Pipeline(steps) if steps else "passthrough"


def _encoder(settings, ordinal, sparse):
    from ._preprocessing_parts import CategoryEncoder

    return CategoryEncoder("ordinal" if ordinal else "onehot", settings["max_categories"], sparse)


def check_training_frame(model, frame, features, settings):
    """Refuse a categorical column with more distinct values than max_distinct, before anything is fitted."""
    if settings is None:
        return
    import pandas as pd

    for feature in features:
        if feature["kind"] != "categorical":
            continue
        distinct = pd.Series(frame[feature["name"]]).nunique(dropna=True)
        if distinct > settings["max_distinct"]:
            raise TrainingDataError(
                f"model '{model}': categorical column '{feature['name']}' has {distinct:,} distinct values, more "
                f"than meta.preprocessing.max_distinct ({settings['max_distinct']:,}); an identifier or free text "
                f"makes no useful category. List it in meta.exclude_columns, group it into fewer values in the "
                f"training view, or raise max_distinct.")


def is_pipeline(estimator):
    from sklearn.pipeline import Pipeline

    return isinstance(estimator, Pipeline)


def final_estimator(estimator):
    return estimator[-1] if is_pipeline(estimator) else estimator


def takes_frame(estimator):
    """Whether a preprocessing Pipeline takes a DataFrame by column name (else the float64 matrix)."""
    from sklearn.compose import ColumnTransformer

    return is_pipeline(estimator) and isinstance(estimator[0], ColumnTransformer)


def transformed(estimator, X, names=None):
    """X as the final estimator sees it (the preprocessing applied), with the names of its columns; ``names`` are
    the input columns of a matrix."""
    names = list(X.columns) if hasattr(X, "columns") else list(names or [f"x{i}" for i in range(np.shape(X)[1])])
    if not is_pipeline(estimator) or all(step == "passthrough" for _, step in estimator.steps[:-1]):
        return X, names
    if takes_frame(estimator):
        return estimator[:-1].transform(X), [str(name) for name in estimator[:-1].get_feature_names_out()]
    return estimator[:-1].transform(X), [str(name) for name in estimator[:-1].get_feature_names_out(names)]


_PARTS_API = ("CategoryEncoder", "DateTimeParts", "describe")


def __getattr__(name):
    """CategoryEncoder, DateTimeParts and describe live in _preprocessing_parts, which subclasses scikit-learn's
    BaseEstimator: imported on first use, so loading the runtime does not import scikit-learn (tests/unit/
    test_imports.py)."""
    if name in _PARTS_API:
        from . import _preprocessing_parts

        return getattr(_preprocessing_parts, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
