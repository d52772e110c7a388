"""Explanations of a fitted model: global feature importances per version, and per-row top-k contributions.

``fitted`` is what a version persists: dbt_learn's ``Pipeline([("preprocess", ...), ("model", estimator)])``, a
Python model's own Pipeline, or a bare estimator. "Features" are the columns the estimator itself sees (after the
preprocessing: one per one-hot category, date part, missing indicator...); "columns" are the model's input columns,
each the sum of the features made from it.

Global importances (``global_importances``), by the first that applies:
- ``gain`` - XGBoost and LightGBM: the total split gain of each feature, as shares of the sum;
- ``impurity`` - scikit-learn trees and ensembles: ``feature_importances_`` (mean decrease in impurity);
- ``coefficients`` - linear models: ``|coef_|``, the mean over classes for a multi-class model. Comparable across
  features when the inputs are standardised (the default preprocessing of linear models standardises numeric
  columns; a one-hot feature is 0/1, so |coef| is the effect of that category being present);
- ``permutation`` - anything else: ``sklearn.inspection.permutation_importance`` on (a sample of) the holdout rows
  with the task's headline scorer (accuracy, r2), 5 repeats, seeded; per input column (a column's features are
  permuted together), so its features are its columns. Clusterers and anomaly detectors are scored by agreement
  with their own predictions: the importance is the share of rows whose segment or label changes.

Per-row contributions (``contributions`` / ``top_contributions``) add up exactly: base_value + the sum of every
feature's contribution = the explained output of that row.
- linear models: contribution_j = coef_j * x_j on the estimator's input features, base_value = intercept_. With the
  default preprocessing a numeric feature is standardised, so x_j = 0 is its training mean and the contribution is
  relative to an average value; a one-hot feature contributes only when its category is present. With
  preprocessing off, contributions are relative to x = 0. Explained output: the prediction (regressors), the
  linear predictor (generalised linear regressors: Poisson, Gamma, Tweedie), the decision function (classifiers:
  the log-odds of the positive class for a binary logistic regression).
- scikit-learn decision trees, random forests, extra trees: Saabas path attribution - along each row's path, the
  change of the node value at each split goes to the split's feature; base_value = the root value (the mean over
  trees for forests). Explained output: the prediction (regressors), the probability of the positive class
  (binary) or of the predicted class (multi-class).
- gradient boosting (scikit-learn): the same per tree, scaled by the learning rate, in the raw score space:
  the prediction (regressors), the decision function (log-odds) of the positive class or of the predicted class;
  base_value = the initial raw prediction plus the root values.
- XGBoost and LightGBM: their own SHAP values (pred_contribs / pred_contrib) of the raw margin: the prediction
  (squared error), the log-odds of the positive class or the raw score of the predicted class.
"""

from collections import namedtuple

import numpy as np

from .errors import ScoringError
from .evaluation import HEADLINE



class Contributions(namedtuple("Contributions", "feature_index contribution names base_value")):
    """What top_contributions returns: unpacks as (feature_index, contribution, names, base_value); also carries
    ``output`` (what base_value + every feature's contribution adds up to) and ``class_index`` (classifiers: the
    position in classes_ of the class explained per row, else None)."""

    def __new__(cls, feature_index, contribution, names, base_value, output=None, class_index=None):
        self = super().__new__(cls, feature_index, contribution, names, base_value)
        self.output, self.class_index = output, class_index
        return self

# Permutation importance scores with the task's headline metric; accuracy and r2 are also sklearn scorer names.
_SCORED_TASKS = ("classification", "regression")
_CHUNK_ROWS = 10_000


def split_fitted(fitted):
    """(preprocessing or None, final estimator)."""
    from sklearn.pipeline import Pipeline

    if isinstance(fitted, Pipeline):
        return fitted[:-1], fitted[-1]
    return None, fitted


def input_names(fitted, X=None, feature_names=None):
    if feature_names is not None:
        return [str(name) for name in feature_names]
    if hasattr(fitted, "feature_names_in_"):
        return [str(name) for name in fitted.feature_names_in_]
    if X is not None and hasattr(X, "columns"):
        return [str(name) for name in X.columns]
    width = np.shape(X)[1] if X is not None else getattr(split_fitted(fitted)[1], "n_features_in_", 0)
    return [f"x{index}" for index in range(width)]


def feature_columns(fitted, names):
    """(transformed feature names, the input column each comes from): a ColumnTransformer's output_indices_ give
    each transformer's outputs; among several input columns (or after a flat Pipeline of numeric steps) an output
    belongs to the input column its name is, starts with (``city_north``) or ends with (``missingindicator_age``)."""
    preprocess, _ = split_fitted(fitted)
    if preprocess is None:
        return list(names), list(names)
    first = preprocess.steps[0][1]
    # A Pipeline fitted on a DataFrame knows its input names; one fitted on a matrix is told them.
    out = preprocess.get_feature_names_out(None if hasattr(first, "feature_names_in_") else list(names))
    features = [str(name) for name in out]
    columns = [None] * len(features)
    from sklearn.compose import ColumnTransformer

    transformer = preprocess[-1] if len(preprocess) == 1 else None
    if isinstance(transformer, ColumnTransformer):
        for name, _, selected in transformer.transformers_:
            outputs = transformer.output_indices_.get(name, slice(0, 0))
            selected = _column_names(transformer, selected)
            for index in range(outputs.start, outputs.stop):
                columns[index] = selected[0] if len(selected) == 1 else _closest(features[index], selected, name)
    return features, [column if column is not None else _closest(feature, names, feature)
                      for feature, column in zip(features, columns)]


def _column_names(transformer, selected):
    if isinstance(selected, str):
        return [selected]
    names = list(getattr(transformer, "feature_names_in_", []))
    try:
        return [names[s] if isinstance(s, (int, np.integer)) and names else str(s) for s in selected]
    except TypeError:
        return []


def _closest(feature, columns, default):
    """The longest input column the feature's name starts or ends with (a one-hot name is column_category)."""
    matching = [c for c in columns if feature == c or feature.startswith(f"{c}_") or feature.endswith(f"_{c}")]
    return max(matching, key=len) if matching else str(default)


def global_importances(model, fitted, X_holdout, y_holdout, task, random_state, max_rows=10_000, *,
                       feature_names=None, evaluated=None, source="holdout"):
    """The version's global importances as stored in the registry (feature_importances): a dict with method,
    features [{feature, column, importance}] and columns [{column, importance}], or None when there is nothing to
    measure them on. ``evaluated``, when given, is the estimator fitted without the holdout rows: permutation
    importance uses it, so its rows are unseen."""
    _, estimator = split_fitted(fitted)
    names = input_names(fitted, X_holdout, feature_names)
    features, columns = feature_columns(fitted, names)
    own = _own_importances(estimator, len(features))
    if own is not None:
        method, values = own
        result = {"method": method, "features": [
            {"feature": f, "column": c, "importance": float(v)} for f, c, v in zip(features, columns, values)]}
    else:
        result = _permutation(model, evaluated if evaluated is not None else fitted, X_holdout, y_holdout, task,
                              random_state, max_rows, names)
        if result is None:
            return None
        result["source"] = source
    sums = {}
    for entry in result["features"]:
        sums[entry["column"]] = sums.get(entry["column"], 0.0) + entry["importance"]
    result["columns"] = [{"column": column, "importance": value} for column, value in sums.items()]
    return result


def _own_importances(estimator, n_features):
    module = type(estimator).__module__
    if module.startswith("xgboost"):
        booster = estimator.get_booster()
        keys = booster.feature_names or [f"f{index}" for index in range(n_features)]
        scores = booster.get_score(importance_type="total_gain")
        return "gain", _shares(np.array([scores.get(key, 0.0) for key in keys], dtype=float))
    if module.startswith("lightgbm"):
        return "gain", _shares(np.asarray(estimator.booster_.feature_importance(importance_type="gain"), float))
    gains = _histogram_boosting_gains(estimator, n_features)
    if gains is not None:
        return "gain", gains
    try:
        values = getattr(estimator, "feature_importances_", None)
    except (AttributeError, ValueError):
        values = None
    if values is not None and np.size(values) == n_features:
        return "impurity", np.asarray(values, dtype=float)
    coef = _coefficients(estimator)
    if coef is not None and coef.shape[1] == n_features:
        return "coefficients", np.abs(coef).mean(axis=0)
    return None


def _histogram_boosting_gains(estimator, n_features):
    """HistGradientBoosting* has no feature_importances_; its trees record each split's gain, so its importance is
    the total split gain per feature as a share, as XGBoost's and LightGBM's. Permutation importance instead cost
    51 predictions of 10,000 rows (2-7 s per training at 1M rows, whatever the table's size). None when the
    fitted trees are not where scikit-learn keeps them (a future version): permutation importance then."""
    if not type(estimator).__module__.startswith("sklearn.ensemble._hist_gradient_boosting"):
        return None
    try:
        gains = np.zeros(n_features)
        for iteration in estimator._predictors:
            for predictor in iteration:
                nodes = predictor.nodes
                split = nodes["is_leaf"] == 0
                np.add.at(gains, nodes["feature_idx"][split].astype(np.intp), nodes["gain"][split])
    except (AttributeError, KeyError, ValueError, IndexError):
        return None
    return _shares(gains)


def _shares(values):
    total = values.sum()
    return values / total if total > 0 else values


def _coefficients(estimator):
    try:
        coef = getattr(estimator, "coef_", None)
    except (AttributeError, ValueError):  # SVC with a non-linear kernel
        return None
    if coef is None:
        return None
    coef = coef.toarray() if hasattr(coef, "toarray") else np.asarray(coef, dtype=float)
    return coef.reshape(1, -1) if coef.ndim == 1 else coef


def _permutation(model, fitted, X, y, task, random_state, max_rows, names):
    from sklearn.inspection import permutation_importance

    if X is None or len(X) == 0:
        return None
    if len(X) > max_rows:
        rows = np.sort(np.random.default_rng(random_state).choice(len(X), max_rows, replace=False))
        X = X.iloc[rows] if hasattr(X, "iloc") else X[rows]
        y = None if y is None else np.asarray(y)[rows]
    scoring = HEADLINE[task] if task in _SCORED_TASKS else None
    if scoring is None:  # clusterers, anomaly detectors: agreement with their own predictions
        scoring, y = "accuracy", fitted.predict(X)
    elif y is None:
        return None
    try:
        measured = permutation_importance(fitted, X, y, scoring=scoring, n_repeats=5, random_state=random_state)
    except ValueError as exc:
        raise ScoringError(f"model '{model}': permutation importance failed: {exc}") from None
    return {"method": "permutation", "scoring": scoring, "n_repeats": 5, "rows": int(len(X)), "features": [
        {"feature": name, "column": name, "importance": float(mean), "std": float(std)}
        for name, mean, std in zip(names, measured.importances_mean, measured.importances_std)]}


def transformed(fitted, X):
    """X as the final estimator sees it (dense float64 unless the estimator takes sparse input)."""
    preprocess, _ = split_fitted(fitted)
    return preprocess.transform(X) if preprocess is not None else X


def top_contributions(fitted, X, k, *, model="model", feature_names=None):
    """Per row, the k features with the largest |contribution| (descending; ties by feature order).

    Returns Contributions: feature_index int32 (n, k), contribution float64 (n, k), names (every feature's name,
    indexed by feature_index), base_value float64 (n,); and the attributes output (what base + every contribution
    adds up to) and class_index (int32 (n,) or None: the position in classes_ of the class explained).
    """
    full, base, names, output, class_index = contributions(fitted, X, model=model, feature_names=feature_names)
    k = max(0, min(int(k), full.shape[1]))
    order = np.argsort(-np.abs(full), axis=1, kind="stable")[:, :k]
    return Contributions(order.astype(np.int32), np.take_along_axis(full, order, axis=1), names, base, output,
                         class_index)


def contributions(fitted, X, *, model="model", feature_names=None):
    """Every feature's contribution per row: (matrix (n, features), base_value (n,), names, output,
    class_index or None)."""
    _, estimator = split_fitted(fitted)
    names = feature_columns(fitted, input_names(fitted, X, feature_names))[0]
    Xt = transformed(fitted, X)
    parts = [_explain(model, estimator, _rows(Xt, start, start + _CHUNK_ROWS))
             for start in range(0, max(_n_rows(Xt), 1), _CHUNK_ROWS)]
    matrix = np.vstack([p[0] for p in parts])
    base = np.concatenate([p[1] for p in parts])
    classes = None if parts[0][3] is None else np.concatenate([p[3] for p in parts]).astype(np.int32)
    if len(names) != matrix.shape[1]:
        names = [f"x{index}" for index in range(matrix.shape[1])]
    return matrix, base, names, parts[0][2], classes


def _n_rows(X):
    return X.shape[0]


def _rows(X, start, stop):
    return X.iloc[start:stop] if hasattr(X, "iloc") else X[start:stop]


def _pick(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _explain(model, estimator, Xt):
    """(contributions (n, features), base_value (n,), output, class_index or None) for one chunk of rows."""
    from sklearn.base import is_classifier

    module = type(estimator).__module__
    classifier = is_classifier(estimator)
    if module.startswith("xgboost"):
        return _native(estimator, Xt, classifier, "xgboost")
    if module.startswith("lightgbm"):
        return _native(estimator, Xt, classifier, "lightgbm")
    from sklearn.ensemble._forest import BaseForest
    from sklearn.ensemble._gb import BaseGradientBoosting
    from sklearn.tree._classes import BaseDecisionTree

    if isinstance(estimator, (BaseDecisionTree, BaseForest)) and hasattr(estimator, "predict"):
        return _forest(model, estimator, Xt, classifier)
    if isinstance(estimator, BaseGradientBoosting):
        return _boosting(estimator, Xt, classifier)
    if _coefficients(estimator) is not None and hasattr(estimator, "intercept_"):
        return _linear(model, estimator, Xt, classifier)
    raise ScoringError(
        f"model '{model}': per-row explanations exist for linear models, scikit-learn decision trees, random "
        f"forests, extra trees and gradient boosting, XGBoost and LightGBM; {type(estimator).__name__} is none of "
        f"them. Score without explain.")


def _dense(X):
    X = X.toarray() if hasattr(X, "toarray") else X
    return np.asarray(X, dtype=np.float64)


def _explained_class(classifier, n_classes, scores):
    """Binary: the positive class (index 1); multi-class: the row's predicted class (argmax of its scores)."""
    if not classifier:
        return None
    if n_classes == 2:
        return np.ones(scores.shape[0], dtype=np.int32)
    return np.argmax(scores, axis=1).astype(np.int32)


def _linear(model, estimator, Xt, classifier):
    coef = _coefficients(estimator)
    intercept = np.broadcast_to(np.atleast_1d(np.asarray(estimator.intercept_, dtype=float)), coef.shape[:1])
    X = _dense(Xt)
    if classifier:
        raw = np.asarray(estimator.decision_function(Xt), dtype=float)
        scores = raw.reshape(len(X), -1)
        explained = _explained_class(True, len(estimator.classes_), scores)
        rows = np.zeros(len(X), dtype=int) if coef.shape[0] == 1 else explained
        target = scores[:, 0] if scores.shape[1] == 1 else scores[np.arange(len(X)), explained]
        output = "decision function of the " + ("positive class" if coef.shape[0] == 1 else "predicted class")
    else:
        if coef.shape[0] != 1:
            raise ScoringError(f"model '{model}': per-row explanations take one output; this model predicts "
                               f"{coef.shape[0]}.")
        rows, explained, output = np.zeros(len(X), dtype=int), None, "prediction"
        target = np.asarray(estimator.predict(Xt), dtype=float)
        link = getattr(getattr(estimator, "_base_loss", None), "link", None)
        if link is not None:  # generalised linear models: the linear predictor is additive
            target, output = link.link(target), "linear predictor"
    contribution = X * coef[rows]
    base = intercept[rows].astype(float)
    if coef.shape[0] != len(intercept) or not np.allclose(base + contribution.sum(axis=1), target, rtol=1e-6,
                                                          atol=1e-8):
        raise ScoringError(f"model '{model}': {type(estimator).__name__} is not linear in its coefficients the way "
                           f"per-row explanations need (coef_ x + intercept_ is not its output).")
    return contribution, base, output, explained


def _node_values(tree, classifier):
    value = tree.tree_.value
    if value.shape[1] != 1:
        raise ScoringError("per-row explanations take one output; this tree model predicts several.")
    value = value[:, 0, :].astype(float)
    if classifier:
        total = value.sum(axis=1, keepdims=True)
        value = np.divide(value, total, out=np.zeros_like(value), where=total > 0)
    return value


def _edges(tree, values, n_features):
    """(nodes x features) sparse: for every non-root node, its value minus its parent's, under the parent's
    split feature; a row's path indicator times it gives the row's Saabas contributions."""
    from scipy.sparse import csr_matrix

    t = tree.tree_
    internal = np.flatnonzero(t.children_left >= 0)
    children = np.concatenate([t.children_left[internal], t.children_right[internal]])
    parents = np.concatenate([internal, internal])
    return csr_matrix((values[children] - values[parents], (children, t.feature[parents])),
                      shape=(t.node_count, n_features))


def _by_class(n_rows, explained, compute):
    """compute(class, row positions) for each class explained, assembled into one matrix."""
    if explained is None:
        return compute(0, slice(None))
    result = None
    for cls in np.unique(explained):
        rows = np.flatnonzero(explained == cls)
        part = compute(int(cls), rows)
        result = np.zeros((n_rows, part.shape[1])) if result is None else result
        result[rows] = part
    return result


def _forest(model, estimator, Xt, classifier):
    from scipy.sparse import vstack

    trees = getattr(estimator, "estimators_", None) or [estimator]
    n_features = estimator.n_features_in_
    values = [_node_values(tree, classifier) for tree in trees]
    path = estimator.decision_path(Xt)
    path = path[0] if isinstance(path, tuple) else path
    proba = estimator.predict_proba(Xt) if classifier else None
    explained = _explained_class(classifier, values[0].shape[1], proba)

    def compute(cls, rows):
        edges = vstack([_edges(tree, value[:, cls], n_features) for tree, value in zip(trees, values)]).tocsr()
        return np.asarray((path[rows] @ edges).todense()) / len(trees)

    contribution = _by_class(path.shape[0], explained, compute)
    roots = np.mean([value[0] for value in values], axis=0)
    base = roots[np.zeros(path.shape[0], dtype=int) if explained is None else explained].astype(float)
    output = ("prediction" if not classifier else
              "probability of the " + ("positive class" if values[0].shape[1] == 2 else "predicted class"))
    return contribution, base, output, explained


def _boosting(estimator, Xt, classifier):
    raw = np.asarray(estimator.decision_function(Xt) if classifier else estimator.predict(Xt), dtype=float)
    scores = raw.reshape(raw.shape[0], -1)
    n_features = estimator.n_features_in_
    explained = _explained_class(classifier, len(getattr(estimator, "classes_", [])), scores)

    def compute(cls, rows):
        column = 0 if estimator.estimators_.shape[1] == 1 else cls
        X = Xt if isinstance(rows, slice) else _pick(Xt, rows)
        total = 0
        for tree in estimator.estimators_[:, column]:
            edges = _edges(tree, tree.tree_.value[:, 0, 0] * estimator.learning_rate, n_features)
            total = total + (tree.decision_path(X) @ edges)
        return np.asarray(total.todense())

    contribution = _by_class(scores.shape[0], explained, compute)
    target = scores[:, 0] if scores.shape[1] == 1 else scores[np.arange(len(scores)), explained]
    output = ("prediction" if not classifier else
              "decision function of the " + ("positive class" if scores.shape[1] == 1 else "predicted class"))
    return contribution, target - contribution.sum(axis=1), output, explained


def _native(estimator, Xt, classifier, library):
    """XGBoost's and LightGBM's own SHAP values of the raw margin; the last column they return is the base."""
    if library == "xgboost":
        import xgboost

        booster = estimator.get_booster()
        try:
            iterations = (0, estimator.best_iteration + 1)
        except AttributeError:
            iterations = (0, 0)
        matrix = xgboost.DMatrix(Xt, feature_names=booster.feature_names, feature_types=booster.feature_types,
                                 missing=np.nan)
        values = booster.predict(matrix, pred_contribs=True, iteration_range=iterations)
    else:
        values = np.asarray(estimator.booster_.predict(_dense(Xt), pred_contrib=True))
    n_rows = values.shape[0]
    n_classes = len(estimator.classes_) if classifier else 1
    if values.ndim == 2 and n_classes > 2:  # LightGBM: the classes side by side
        values = values.reshape(n_rows, n_classes, -1)
    values = values[:, None, :] if values.ndim == 2 else values
    explained = _explained_class(classifier, n_classes, values.sum(axis=2))
    picked = values[:, 0, :] if values.shape[1] == 1 else values[np.arange(n_rows), explained, :]
    output = ("raw prediction (margin)" if not classifier else
              "log-odds of the positive class" if values.shape[1] == 1 else "raw score of the predicted class")
    return picked[:, :-1].astype(float), picked[:, -1].astype(float), output, explained
