"""Meta-estimators and estimators with required arguments, for ``estimators.build_estimator``.

Estimator-valued hyperparameters are given in meta.params as data: an algorithm name or class path
(``estimator: 'logistic_regression'``), a mapping (``estimator: {algorithm: 'svc', params: {C: 2}}``) or, for
``estimators``, a list of ``[name, spec]`` pairs (VotingClassifier, StackingRegressor, ...). What cannot be built this
way (searches, pipelines) is refused with a message saying what to use instead.
"""

import inspect
import math

from .errors import ConfigurationError

NESTED_KEYS = ("estimator", "base_estimator", "final_estimator", "estimators", "regressor")
_SEARCHES = {"gridsearchcv", "randomizedsearchcv", "halvinggridsearchcv", "halvingrandomsearchcv"}
_COMPOSITION = {"Pipeline", "FeatureUnion", "ColumnTransformer"}
_SPEC_EXAMPLE = ("'logistic_regression' or {algorithm: 'random_forest_classifier', params: {n_estimators: 50}}")
_EXAMPLES = {
    "estimators": "params: {estimators: [['lr', 'logistic_regression'], ['rf', {algorithm: "
                  "'random_forest_classifier', params: {n_estimators: 50}}]]}",
    **{key: f"params: {{{key}: {_SPEC_EXAMPLE}}}" for key in NESTED_KEYS if key != "estimators"},
}


def _prefix(model):
    return f"model '{model}': " if model is not None else ""


def refuse_search(model, algorithm):
    """GridSearchCV and friends are configured through meta.search, around the estimator named in meta.algorithm."""
    name = algorithm.rsplit(".", 1)[-1].replace("_", "").lower()
    if name in _SEARCHES:
        raise ConfigurationError(
            f"{_prefix(model)}'{algorithm}' is a hyperparameter search, not an estimator; set meta.algorithm to the "
            f"estimator to tune and describe the search in meta.search, e.g. search: {{method: 'grid', space: "
            f"{{C: [0.1, 1, 10]}}, folds: 5}} (or method: 'random' with iterations).")


def refuse_composition(model, cls):
    if any(base.__name__ == "BaseSearchCV" for base in cls.__mro__):
        refuse_search(model, cls.__name__)
        raise ConfigurationError(f"{_prefix(model)}{cls.__name__} is a hyperparameter search; use meta.search.")
    if cls.__name__ in _COMPOSITION and cls.__module__.startswith("sklearn."):
        raise ConfigurationError(
            f"{_prefix(model)}{cls.__name__} composes preprocessing steps, which dbt_learn does itself for SQL models "
            f"(meta.preprocessing); set meta.algorithm to the final estimator, or return a custom Pipeline from a "
            f"dbt Python model.")


def not_a_predictor(model, estimator):
    name = type(estimator).__name__
    if hasattr(estimator, "transform") and not hasattr(estimator, "predict"):
        return (f"{_prefix(model)}{name} is a transformer: it changes features but predicts nothing, so it cannot be "
                f"an ml_train model; preprocessing of SQL models is automatic (meta.preprocessing) and a custom "
                f"Pipeline belongs in a dbt Python model. Use a classifier, regressor, clusterer or anomaly detector "
                f"(the ml_algorithms model lists them).")
    return (f"{_prefix(model)}{name} is neither a classifier, a regressor, a clusterer nor an anomaly detector "
            f"(scikit-learn's tags), so ml_train cannot fit, evaluate or score it; the ml_algorithms model lists the "
            f"estimators it can.")


def multi_output_only(estimator):
    """Estimators that need a 2-D target (MultiTaskLasso, the sklearn.multioutput wrappers)."""
    from sklearn.utils import get_tags

    try:
        single = get_tags(estimator).target_tags.single_output
    except AttributeError:  # tags that need a missing argument
        single = True
    return not single or type(estimator).__module__ == "sklearn.multioutput"


def refuse_multi_output(model, estimator):
    if multi_output_only(estimator):
        wrapper = type(estimator).__module__ == "sklearn.multioutput"
        instead = ("the estimator it wraps directly" if wrapper
                   else "its single-output form (e.g. 'lasso' for MultiTaskLasso)")
        raise ConfigurationError(
            f"{_prefix(model)}{type(estimator).__name__} predicts several target columns at once; an ml_train model "
            f"has one target. Use {instead}.")


def required_arguments(cls):
    """Constructor parameters without a default value."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in parameters if p.name != "self" and p.default is inspect.Parameter.empty
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def check_required(model, cls, required, params):
    missing = [name for name in required if name not in params]
    if missing:
        name = missing[0]
        example = _EXAMPLES.get(name, f"params: {{{name}: ...}}")
        raise ConfigurationError(
            f"{_prefix(model)}{cls.__name__} needs the argument '{name}' (it has no default); give it in meta.params, "
            f"e.g. {example}.")


def nested_hint(message):
    key = next((key for key in NESTED_KEYS if f"'{key}' parameter" in message), None)
    return f" Give it in meta.params, e.g. {_EXAMPLES[key]}." if key else ""


def _spec(model, cls, key, value):
    """An algorithm name or {algorithm, params} as (algorithm, params)."""
    if isinstance(value, str):
        return value, {}
    if isinstance(value, dict) and "algorithm" in value and set(value) <= {"algorithm", "params"}:
        if value.get("params") is not None and not isinstance(value["params"], dict):
            raise ConfigurationError(f"{_prefix(model)}params of '{value['algorithm']}' in '{key}' of "
                                     f"{cls.__name__} must be a mapping of hyperparameter names to values.")
        return value["algorithm"], value.get("params") or {}
    raise ConfigurationError(
        f"{_prefix(model)}hyperparameter '{key}' of {cls.__name__} takes an estimator: an algorithm name or class "
        f"path, or {{algorithm: ..., params: {{...}}}}; got {value!r}. E.g. {_EXAMPLES.get(key, _SPEC_EXAMPLE)}.")


def build_nested(model, cls, params, build):
    """Replace estimator specs in params by estimators, built by ``build((algorithm, params))``."""
    built = dict(params)
    for key in NESTED_KEYS:
        value = params.get(key)
        if value is None or not isinstance(value, (str, dict, list)):
            continue
        if key != "estimators":
            built[key] = build(_spec(model, cls, key, value))
            continue
        if not isinstance(value, list) or not value or not all(
                isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in value):
            raise ConfigurationError(
                f"{_prefix(model)}hyperparameter 'estimators' of {cls.__name__} takes a list of [name, estimator] "
                f"pairs, e.g. {_EXAMPLES['estimators']}; got {value!r}.")
        built[key] = [(name, build(_spec(model, cls, f"estimators.{name}", spec))) for name, spec in value]
    return built


def plain_params(estimator, short_name):
    """get_params(deep=False) as JSON-able values: nested estimators as {algorithm, params} (changed params only)."""
    from sklearn.base import BaseEstimator

    def plain(value):
        if isinstance(value, BaseEstimator):
            return {"algorithm": short_name(type(value)), "params": _changed(value)}
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, float) and not math.isfinite(value):
            return repr(value)  # jsonb has no NaN (XGBoost's missing=nan)
        return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)

    def _changed(value):
        try:
            defaults = type(value)().get_params(deep=False)
        except TypeError:  # required arguments: compare with the signature's defaults
            defaults = {p.name: p.default for p in inspect.signature(type(value).__init__).parameters.values()}
        return {key: plain(item) for key, item in value.get_params(deep=False).items()
                if key not in defaults or repr(defaults[key]) != repr(item)}

    return {key: plain(value) for key, value in estimator.get_params(deep=False).items()}
