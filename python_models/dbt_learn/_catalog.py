"""The catalog: every estimator an ml_train model can name, generated from scikit-learn's own listing
(``sklearn.utils.all_estimators``) and the scikit-learn classes of XGBoost and LightGBM.

Listed: classes whose task is classification, regression, clustering or anomaly detection (scikit-learn's tags of the
estimator as ``build_estimator`` makes it with no params, or for classes with required arguments their mixins).
Not listed: transformers and density estimators (no task), searches (meta.search), pipelines (automatic
preprocessing), estimators that need a 2-D target, and XGBoost/LightGBM's rankers, base and Dask classes.
Importing all of scikit-learn takes seconds: only the SQL function ``dbt_learn.algorithms()`` (the ml_algorithms
model) and the docs command import it; resolving one short name does not.
"""

import functools
import inspect
import warnings

from . import _meta_estimators as meta
from . import estimators
from .errors import ConfigurationError

COLUMNS = ("name", "task", "class_path", "package", "predicts_probabilities", "has_importances", "can_score",
           "needs_arguments", "summary")
_LINEAR_MODULES = ("sklearn.linear_model.", "sklearn.cross_decomposition.")
_HISTOGRAM_BOOSTING_MODULE = "sklearn.ensemble._hist_gradient_boosting"


def _candidate_classes(allowed_packages):
    from sklearn.utils import all_estimators

    classes = [cls for _, cls in all_estimators()]
    for package in estimators.EXTRA_PACKAGES:
        if package in allowed_packages:
            try:
                classes += [cls for _, cls in estimators.extra_estimators(package)]
            except ImportError:  # not installed in this venv: nothing to list
                pass
    return classes


def _mixin_task(cls):
    from sklearn.base import ClassifierMixin, ClusterMixin, OutlierMixin, RegressorMixin

    mixins = (("classification", ClassifierMixin), ("regression", RegressorMixin), ("clustering", ClusterMixin),
              ("anomaly_detection", OutlierMixin))
    return next((task for task, mixin in mixins if issubclass(cls, mixin)), None)


def has_importances(cls):
    """Whether the fitted estimator has its own importances: a ``feature_importances_`` attribute on the class (trees,
    forests, gradient boosting, AdaBoost, XGBoost, LightGBM), or ``coef_`` set by fit, which linear models have:
    classes of sklearn.linear_model and sklearn.cross_decomposition and subclasses of LinearModel /
    LinearClassifierMixin (LinearSVC, LinearSVR, LinearDiscriminantAnalysis), meta-estimators (RANSACRegressor)
    excepted. Kernel SVMs are not counted: their coef_ exists only with kernel='linear'. Histogram gradient boosting
    counts too: its trees record each split's gain (explanations._histogram_boosting_gains)."""
    if hasattr(cls, "feature_importances_") or cls.__module__.startswith(_HISTOGRAM_BOOSTING_MODULE):
        return True
    from sklearn.linear_model._base import LinearClassifierMixin, LinearModel

    linear = cls.__module__.startswith(_LINEAR_MODULES) or issubclass(cls, (LinearModel, LinearClassifierMixin))
    return linear and "estimator" not in inspect.signature(cls.__init__).parameters


def summary(cls):
    """The first sentence of the class docstring."""
    paragraph = (inspect.getdoc(cls) or "").split("\n\n", 1)[0]
    text = " ".join(paragraph.split())
    end = text.find(". ")
    return text[:end + 1] if end >= 0 else text


def entry(cls):
    """The catalog row of one class, or None when ml_train cannot fit it."""
    try:
        meta.refuse_composition(None, cls)
    except ConfigurationError:
        return None
    instance = None
    if not meta.required_arguments(cls):
        if meta.multi_output_only(cls()):
            return None
        try:
            instance = estimators.build_from_class(None, cls, threads=1)
        except ConfigurationError:  # e.g. SelfTrainingClassifier: its estimator=None is not usable
            instance = None
    elif cls.__module__ == "sklearn.multioutput":
        return None
    task = estimators.task_or_none(instance) if instance is not None else _mixin_task(cls)
    if task is None:
        return None
    probe = instance if instance is not None else cls
    return {
        "name": estimators.short_name(cls),
        "task": task,
        "class_path": estimators.class_path(cls),
        "package": estimators.package_of(cls),
        "predicts_probabilities": task == "classification" and hasattr(probe, "predict_proba"),
        "has_importances": has_importances(cls),
        "can_score": hasattr(probe, "predict"),
        "needs_arguments": instance is None,
        "summary": summary(cls),
    }


@functools.lru_cache(maxsize=4)
def _catalog(allowed_packages):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = [row for row in map(entry, _candidate_classes(allowed_packages)) if row is not None]
    return tuple(sorted(rows, key=lambda row: (row["task"], row["name"])))


def catalog(allowed_packages=estimators.DEFAULT_PACKAGES):
    """The rows, ordered by task and name; scikit-learn is always listed (its short names always resolve)."""
    return [dict(row) for row in _catalog(tuple(sorted(allowed_packages)))]


def algorithms_rows(allowed_packages):
    """Entry point of the SQL function dbt_learn.algorithms(): the catalog, one dict per row."""
    return catalog(allowed_packages)


def counts(rows):
    """{task: {package: number}} for the docs."""
    table = {}
    for row in rows:
        by_package = table.setdefault(row["task"], {})
        by_package[row["package"]] = by_package.get(row["package"], 0) + 1
    return table


def main():  # python -m dbt_learn._catalog: the counts per task and package that docs/catalog.md shows
    rows = catalog()
    packages = sorted({row["package"] for row in rows})
    print("| task | " + " | ".join(packages) + " | total |")
    print("|---|" + "---|" * (len(packages) + 1))
    for task, by_package in sorted(counts(rows).items()):
        print(f"| {task} | " + " | ".join(str(by_package.get(p, 0)) for p in packages)
              + f" | {sum(by_package.values())} |")
    print("| all | " + " | ".join(str(sum(r["package"] == p for r in rows)) for p in packages) + f" | {len(rows)} |")


if __name__ == "__main__":
    main()
