"""The types a skops artifact may contain: the classes this runtime itself produces, listed from the runtime.

skops (``serialization``) rebuilds an artifact from data and refuses any type not named in an explicit list; this
module computes that list from what the installed libraries define, never from what an artifact names:

- scikit-learn: every estimator and transformer class (``sklearn.utils.all_estimators``), and the classes of a few
  internal modules that fitted estimators hold (losses and links, tree storage, histogram binning and predictors,
  MLP optimizers, neighbour trees and their distance metrics, Gaussian-process kernels);
- XGBoost and LightGBM, when installed: their scikit-learn estimators and their Booster (saved as the
  library's own model bytes or text, not as a pickle);
- this package's own classes that end up in artifacts (preprocessing steps, the recommender);
- numpy dtype objects (``numpy.dtype`` and the classes of ``numpy.dtypes``), scipy's sparse matrix and array classes;
- numpy scalar types and ufuncs, numpy bit generators and Python's plain containers, which skops trusts by default.

Functions are never added: an estimator holding a function (FunctionTransformer(func=...)) is trusted only for the
numpy/scipy ufuncs skops trusts by default, so a file cannot smuggle in ``os.system`` or ``eval``.
"""

import functools
import importlib
import inspect

# Compiled node storage whose child and feature indices scikit-learn follows without bounds checks (skops flags them
# in UNTRUSTED_TYPE_REASONS): a crafted one can crash the backend when it predicts. The runtime's own fits produce
# them, so they are trusted for versions trained by SQL models, or while Python models are allowed; a Python model
# can shape an estimator's state, so its versions that contain them are not loaded once Python models are off.
RAW_INDEX_TYPES = frozenset({
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
})

# scikit-learn modules whose classes fitted estimators hold besides the estimators themselves.
_SKLEARN_INTERNAL_MODULES = (
    "sklearn._loss.loss", "sklearn._loss.link", "sklearn._loss._loss", "sklearn.tree._tree",
    "sklearn.ensemble._hist_gradient_boosting.binning", "sklearn.ensemble._hist_gradient_boosting.predictor",
    "sklearn.neural_network._stochastic_optimizers", "sklearn.neighbors._kd_tree", "sklearn.neighbors._ball_tree",
    "sklearn.metrics._dist_metrics", "sklearn.gaussian_process.kernels", "sklearn.linear_model._sgd_fast",
    "sklearn.utils._bunch",
)

# Private classes that public scikit-learn estimators keep once fitted (CalibratedClassifierCV,
# GaussianProcessClassifier, BisectingKMeans); a name this scikit-learn does not define is left out.
_SKLEARN_INTERNAL_CLASSES = (
    "sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration",
    "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace",
    "sklearn.cluster._bisect_k_means._BisectingTree",
)

# Classes beyond the estimators' own modules, by package (when the package is allowed at install time).
_EXTRA = {
    "xgboost": ("xgboost.sklearn", ("xgboost.core.Booster",)),
    "lightgbm": ("lightgbm.sklearn", ("lightgbm.basic.Booster",)),
}

# This package's classes that are part of an artifact.
_OWN = (
    "dbt_learn._preprocessing_parts.DateTimeParts",
    "dbt_learn._preprocessing_parts.CategoryEncoder",
    "dbt_learn.recommendation.Recommender",
)

_PLAIN = ("collections.OrderedDict", "builtins.slice", "builtins.complex", "builtins.bytes", "builtins.NoneType",
          "numpy.dtype")


def type_name(cls):
    """The name skops gives a type: ``module.Name``."""
    return f"{cls.__module__}.{cls.__name__}"


def _class_named(name):
    module_name, _, attr = name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attr, None)
    except ImportError:  # pragma: no cover - a scikit-learn release without this module
        return None
    return name if inspect.isclass(obj) and type_name(obj) == name else None


def _classes_of(module_name):
    try:
        module = importlib.import_module(module_name)
    except ImportError:  # pragma: no cover - a scikit-learn release without this module
        return set()
    return {type_name(obj) for _, obj in inspect.getmembers(module, inspect.isclass)
            if obj.__module__ == module_name}


def _sparse_classes():
    import scipy.sparse as sparse

    return {type_name(obj) for obj in vars(sparse).values()
            if inspect.isclass(obj) and issubclass(obj, (sparse.spmatrix, sparse.sparray))}


@functools.lru_cache(maxsize=None)
def trusted_types(packages=("sklearn", "xgboost", "lightgbm")):
    """The sorted tuple of type names a skops artifact may contain in this runtime, for the allowed ``packages``."""
    from sklearn.utils import all_estimators

    names = {type_name(cls) for _, cls in all_estimators() if cls.__module__.startswith("sklearn.")}
    for module_name in _SKLEARN_INTERNAL_MODULES:
        names |= _classes_of(module_name)
    names |= {name for name in map(_class_named, _SKLEARN_INTERNAL_CLASSES) if name}
    for package, (module_name, extra) in _EXTRA.items():
        if package in packages:
            try:
                importlib.import_module(package)
            except ImportError:  # not installed in this runtime: nothing of it can be loaded either
                continue
            names |= _classes_of(module_name) | set(extra)
    names |= _classes_of("numpy.dtypes") | _sparse_classes() | {*_OWN, *_PLAIN}
    return tuple(sorted(names))
