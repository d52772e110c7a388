"""Hyperparameter search (meta.search): grid or random candidates, k-fold cross-validation on the fit rows only, run
by scikit-learn's GridSearchCV in chunks so a long search can report progress between calls.

A random search samples its candidates up front (ParameterSampler with the model's random_state) and the folds are
drawn once, so running the candidates in one GridSearchCV or in many chunks gives the same trials. Scores are
recorded in the metric's own direction (an rmse is an rmse, not sklearn's negated score); ranks follow scikit-learn
(1 = best, a failed candidate last).
"""

import difflib
import re
import time
import warnings

import numpy as np

from .errors import ConfigurationError, TrainingDataError
from .evaluation import HEADLINE, LOWER_IS_BETTER, METRICS, take

METHODS = ("grid", "random")
DISTRIBUTIONS = ("uniform", "loguniform", "randint")
OPTIONS = ("method", "space", "iterations", "folds", "scoring", "progress_seconds")
DEFAULTS = {"method": "grid", "iterations": 20, "folds": 3, "progress_seconds": 10}
MAX_CANDIDATES = 1000
MAX_FOLDS = 20
# The sklearn scorer behind each metric name of evaluation.METRICS (clustering's silhouette is computed here).
SCORERS = {
    "regression": {"r2": "r2", "mae": "neg_mean_absolute_error", "rmse": "neg_root_mean_squared_error",
                   "mape": "neg_mean_absolute_percentage_error"},
    "classification": {"accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy",
                       "precision_macro": "precision_macro", "recall_macro": "recall_macro", "f1_macro": "f1_macro",
                       "f1_weighted": "f1_weighted", "roc_auc": "roc_auc", "roc_auc_ovr": "roc_auc_ovr",
                       "log_loss": "neg_log_loss"},
    "clustering": {"silhouette": "silhouette"},
}
# Hyperparameters that would act on the database server (files, worker processes) are never searched.
_REFUSED = ("n_jobs", "memory")


def _fail(model, message):
    raise ConfigurationError(f"model '{model}': meta.search {message}")


def check_search(model, estimator, task, search):
    """Validate meta.search before any data moves; returns the settings with defaults filled in.

    ``estimator`` is the bare estimator or the Pipeline it will be fitted in: hyperparameter names are the
    estimator's own (``C``, ``max_depth``); inside dbt_learn's Pipeline they become ``model__C``.
    """
    if not isinstance(search, dict):
        _fail(model, f"must be a mapping with method, space, iterations, folds, scoring; got {search!r}.")
    unknown = [key for key in search if key not in OPTIONS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], OPTIONS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        _fail(model, f"option '{unknown[0]}' is unknown.{hint} The options are: {', '.join(OPTIONS)}.")
    if task not in SCORERS:
        _fail(model, f"applies to classification, regression and clustering models; this model's task is {task}.")
    settings = {**DEFAULTS, **{key: value for key, value in search.items() if value is not None}}
    method = settings["method"]
    if method not in METHODS:
        _fail(model, f"method '{method}' is unknown; use 'grid' or 'random'.")
    if method == "grid" and "iterations" in search and search["iterations"] is not None:
        _fail(model, "iterations applies to method 'random' only; a grid search tries every combination.")
    for key, low, high in (("iterations", 1, MAX_CANDIDATES), ("folds", 2, MAX_FOLDS)):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            _fail(model, f"{key} must be a whole number from {low} to {high}; got {value!r}.")
    seconds = settings["progress_seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        _fail(model, f"progress_seconds must be a number of seconds >= 0; got {seconds!r}.")
    settings["scoring"] = settings.get("scoring") or HEADLINE[task]
    if settings["scoring"] not in SCORERS[task]:
        _fail(model, f"scoring '{settings['scoring']}' is not a {task} metric; use one of "
                     f"{', '.join(METRICS.get(task, SCORERS[task]))}.")
    space = settings.get("space")
    if not isinstance(space, dict) or not space:
        _fail(model, "needs a space: a mapping of hyperparameter names to a list of values (grid or random) or to "
                     "{distribution: uniform|loguniform|randint, low, high} (random), e.g. {C: [0.1, 1, 10]}.")
    names = resolve_names(model, estimator, space)
    for name, values in space.items():
        _check_values(model, estimator, method, name, names[name], values)
    settings["candidates"] = count_candidates(settings)
    if settings["candidates"] > MAX_CANDIDATES:
        _fail(model, f"space has {settings['candidates']:,} combinations, more than {MAX_CANDIDATES:,}; use fewer "
                     f"values or method 'random' with iterations.")
    if method == "grid":
        settings.pop("iterations", None)
    return settings


def resolve_names(model, estimator, space):
    """{name as written in the space: name for estimator.set_params}; inside a Pipeline whose last step is
    ``model``, the estimator's own names get the ``model__`` prefix (a full nested name is taken as it is)."""
    valid = estimator.get_params(deep=True)
    inner = _inner_estimator(estimator)
    resolved = {}
    for name in space:
        if not isinstance(name, str):
            _fail(model, f"space key {name!r} is not a hyperparameter name.")
        if inner is not None and f"model__{name}" in valid:
            full = f"model__{name}"
        elif name in valid:
            full = name
        else:
            choices = list((inner or estimator).get_params(deep=True))
            close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            cls = type(inner or estimator).__name__
            _fail(model, f"space: unknown hyperparameter '{name}' for {cls}.{hint} Valid hyperparameters are: "
                         f"{', '.join(sorted(choices))}.")
        if full.rsplit("__", 1)[-1] in _REFUSED:
            _fail(model, f"space: hyperparameter '{name}' cannot be searched: it would start processes or write "
                         f"files on the database server (meta.threads_per_model sets the threads).")
        resolved[name] = full
    return resolved


def _inner_estimator(estimator):
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline) and estimator.steps[-1][0] == "model":
        return estimator.steps[-1][1]
    return None


def _check_values(model, estimator, method, name, full, values):
    if isinstance(values, dict):
        if method == "grid":
            _fail(model, f"space: '{name}' is a distribution; a grid search takes a list of values (use method "
                         f"'random' to sample from distributions).")
        extra = sorted(set(values) - {"distribution", "low", "high"})
        kind, low, high = values.get("distribution"), values.get("low"), values.get("high")
        if extra or kind not in DISTRIBUTIONS:
            _fail(model, f"space: '{name}' must be a list of values or {{distribution: "
                         f"{'|'.join(DISTRIBUTIONS)}, low, high}}; got {values!r}.")
        number = int if kind == "randint" else (int, float)
        if any(isinstance(v, bool) or not isinstance(v, number) for v in (low, high)) or not low < high:
            what = "whole numbers" if kind == "randint" else "numbers"
            _fail(model, f"space: '{name}' {kind} needs low and high {what} with low < high; got low={low!r}, "
                         f"high={high!r}.")
        if kind == "loguniform" and low <= 0:
            _fail(model, f"space: '{name}' loguniform needs low > 0; got {low!r}.")
        samples = (low, high)
    elif isinstance(values, list) and values:
        samples = values
    else:
        _fail(model, f"space: '{name}' needs a non-empty list of values; got {values!r}.")
    for value in samples:
        _check_value(model, estimator, name, full, value)


def _check_value(model, estimator, name, full, value):
    """scikit-learn checks values only at fit time: try each one now on a copy of the estimator that owns it. A value
    above the admin's work bounds (n_estimators, max_iter, ...) is refused like one in meta.params."""
    from sklearn.base import clone

    from ._work_bounds import check_work_bounds, installed_work_bounds

    check_work_bounds(model, {full: value}, installed_work_bounds())
    owner_path, _, leaf = full.rpartition("__")
    owner = estimator.get_params(deep=True)[owner_path] if owner_path else estimator
    validate = getattr(owner, "_validate_params", None)
    if validate is None or not hasattr(owner, "set_params"):
        return
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        candidate = clone(owner).set_params(**{leaf: value})
        candidate._validate_params()
    except (InvalidParameterError, ValueError, TypeError) as exc:
        _fail(model, f"space: value {value!r} of '{name}' is invalid: {exc}")


def count_candidates(settings):
    space = settings["space"]
    if settings["method"] == "grid":
        return int(np.prod([len(values) for values in space.values()]))
    if all(isinstance(values, list) for values in space.values()):
        return min(settings["iterations"], int(np.prod([len(values) for values in space.values()])))
    return settings["iterations"]


def candidates(settings, random_state):
    """The candidates in the order they are tried: ParameterGrid order, or sampled once by ParameterSampler."""
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    space = settings["space"]
    if settings["method"] == "grid":
        return [dict(c) for c in ParameterGrid(space)]
    sampled = ParameterSampler({name: _distribution(values) for name, values in space.items()},
                               n_iter=settings["iterations"], random_state=random_state)
    return [{name: _plain(value) for name, value in candidate.items()} for candidate in sampled]


def _distribution(values):
    if isinstance(values, list):
        return values
    from scipy import stats

    low, high = values["low"], values["high"]
    if values["distribution"] == "uniform":
        return stats.uniform(loc=low, scale=high - low)
    if values["distribution"] == "loguniform":
        return stats.loguniform(low, high)
    return stats.randint(low, high + 1)  # both ends included


def _plain(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def cv_splits(model, y, task, n_rows, *, folds, split, random_state, order=None):
    """The folds, drawn once as explicit (train, test) positions, and how they were drawn."""
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

    if n_rows < folds or (split == "time" and n_rows <= folds):
        raise TrainingDataError(f"model '{model}': meta.search folds={folds} needs more fit rows than folds; there "
                                f"are {n_rows}. Lower folds or add rows.")
    positions = np.arange(n_rows)
    if split == "time":
        ranked = np.argsort(order, kind="stable")
        splitter = TimeSeriesSplit(n_splits=folds)
        return [(np.sort(ranked[a]), np.sort(ranked[b])) for a, b in splitter.split(positions)], repr(splitter)
    if task == "classification" and np.unique(np.asarray(y), return_counts=True)[1].min() >= folds:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    else:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=random_state)
    return list(splitter.split(positions, y)), repr(splitter)


def scorer(task, scoring):
    if scoring == "silhouette":
        return _silhouette
    return SCORERS[task][scoring]


def _silhouette(estimator, X, y=None):
    """Silhouette of the predicted segments, in the space the clusterer sees (after preprocessing)."""
    from sklearn.metrics import silhouette_score

    labels = estimator.predict(X)
    inner = _inner_estimator(estimator)
    Xt = estimator[:-1].transform(X) if inner is not None else X
    return silhouette_score(Xt, labels) if 1 < len(np.unique(labels)) < len(labels) else float("nan")


class Search:
    """One search over the fit rows; ``run(seconds)`` tries candidates until that much time has passed (at least
    one), so the caller can report progress between runs."""

    def __init__(self, model, estimator, X, y, task, settings, *, random_state, split="auto", order=None):
        self.model, self.estimator, self.X, self.y, self.task = model, estimator, X, y, task
        self.settings, self.random_state = settings, random_state
        self.names = resolve_names(model, estimator, settings["space"])
        self.candidates = candidates(settings, random_state)
        self.splits, self.cv = cv_splits(model, y, task, len(X), folds=settings["folds"], split=split,
                                         random_state=random_state, order=order)
        self.trials, self.failures, self.calls, self.seconds = [], [], 0, 0.0
        self._per_candidate = None

    @property
    def finished(self):
        return len(self.trials) >= len(self.candidates)

    def run(self, seconds=float("inf")):
        started = time.perf_counter()
        self.calls += 1
        while not self.finished:
            remaining = seconds - (time.perf_counter() - started)
            left = len(self.candidates) - len(self.trials)
            if self._per_candidate is None or remaining <= 0:
                size = 1
            else:
                size = int(max(1, min(left, remaining / max(self._per_candidate, 1e-6))))
            chunk_started = time.perf_counter()
            self._run_chunk(self.candidates[len(self.trials):len(self.trials) + size])
            self._per_candidate = (time.perf_counter() - chunk_started) / size
            if time.perf_counter() - started >= seconds:
                break
        self.seconds += time.perf_counter() - started
        if self.finished and all(trial["mean_score"] is None for trial in self.trials):
            detail = f" The first failure: {self.failures[0]}" if self.failures else ""
            raise TrainingDataError(f"model '{self.model}': meta.search: every candidate failed to fit or score."
                                    f"{detail}")
        return self

    def _run_chunk(self, chunk):
        from sklearn.exceptions import FitFailedWarning
        from sklearn.model_selection import GridSearchCV

        grid = [{self.names[name]: [value] for name, value in candidate.items()} for candidate in chunk]
        search = GridSearchCV(self.estimator, grid, scoring=scorer(self.task, self.settings["scoring"]),
                              cv=self.splits, refit=False, n_jobs=None, error_score=np.nan)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                search.fit(self.X, self.y)
                results = search.cv_results_
            except ValueError as exc:  # every fit of the chunk failed
                if "fits failed" not in str(exc):
                    raise TrainingDataError(f"model '{self.model}': meta.search failed: {exc}") from None
                self.failures.append(_short(exc))
                results = None
        self.failures += [_short(w.message) for w in caught if issubclass(w.category, FitFailedWarning)]
        folds = len(self.splits)
        sign = -1.0 if self.settings["scoring"] in LOWER_IS_BETTER else 1.0
        for index, candidate in enumerate(chunk):
            raw = (np.full(folds, np.nan) if results is None
                   else np.array([results[f"split{k}_test_score"][index] for k in range(folds)], dtype=float))
            failed = bool(np.isnan(raw).any())
            self.trials.append({
                "candidate": len(self.trials) + 1, "params": candidate,
                "raw_mean": np.nan if failed else float(np.mean(raw)),
                "mean_score": None if failed else sign * float(np.mean(raw)),
                "std_score": None if failed else float(np.std(raw)),
                "fold_scores": [None if np.isnan(v) else sign * float(v) for v in raw],
                "mean_fit_seconds": None if results is None else float(results["mean_fit_time"][index]),
                "std_fit_seconds": None if results is None else float(results["std_fit_time"][index]),
                "mean_score_seconds": None if results is None else float(results["mean_score_time"][index]),
            })

    def ranks(self):
        """scikit-learn's ranking: 1 for the best mean score (ties share the lowest rank), failures last."""
        from scipy.stats import rankdata

        means = np.array([trial["raw_mean"] for trial in self.trials], dtype=float)
        if np.isnan(means).all():
            return np.ones(len(means), dtype=int)
        means = np.nan_to_num(means, nan=np.nanmin(means) - 1)
        return rankdata(-means, method="min").astype(int)

    def best(self):
        """The best trial so far (the first of the best rank, as GridSearchCV's best_index_), or None."""
        if not self.trials or all(trial["mean_score"] is None for trial in self.trials):
            return None
        return self.trials[int(np.argmin(self.ranks()))]

    def best_params(self):
        """The best candidate in set_params names (``model__C`` inside dbt_learn's Pipeline)."""
        return {self.names[name]: value for name, value in self.best()["params"].items()}

    def progress(self):
        best = self.best()
        scoring = self.settings["scoring"]
        text = f"{len(self.trials)}/{len(self.candidates)} candidates, "
        text += (f"best {scoring}={best['mean_score']:.4f} ({describe_params(best['params'])})" if best
                 else "no candidate scored yet")
        return {"done": len(self.trials), "total": len(self.candidates), "scoring": scoring,
                "best_score": best and best["mean_score"], "best_params": best and best["params"], "text": text}

    def record(self):
        """What is stored with the version (evaluation['search'])."""
        ranks = self.ranks()
        best = self.best()
        trials = [{key: value for key, value in trial.items() if key != "raw_mean"} | {"rank": int(rank)}
                  for trial, rank in zip(self.trials, ranks)]
        settings = self.settings
        return {
            "method": settings["method"], "scoring": settings["scoring"],
            "scorer": SCORERS[self.task][settings["scoring"]],
            "folds": settings["folds"], "cv": self.cv, "random_state": self.random_state,
            "iterations": settings.get("iterations"), "space": settings["space"], "fit_rows": len(self.X),
            "candidates": len(self.candidates), "best_candidate": best["candidate"], "best_params": best["params"],
            "best_score": best["mean_score"], "best_score_std": best["std_score"],
            "failed_candidates": sum(1 for trial in self.trials if trial["mean_score"] is None),
            "failures": list(dict.fromkeys(self.failures))[:3], "search_seconds": self.seconds,
            "calls": self.calls, "trials": trials,
        }


def describe_params(params):
    return ", ".join(f"{name}={value!r}" for name, value in params.items())


def _short(message, limit=400):
    """A fit failure's own error line (scikit-learn wraps it in a traceback), shortened."""
    errors = re.findall(r"^\w*(?:Error|Exception): .*$", str(message), flags=re.MULTILINE)
    text = " ".join((errors[-1] if errors else str(message)).split())
    return text if len(text) <= limit else text[:limit] + "..."


def run_search(model, estimator, X, y, task, settings, *, random_state, split="auto", order=None):
    """The whole search in one go (tests, and what the chunked runs must equal)."""
    return Search(model, estimator, X, y, task, settings, random_state=random_state, split=split, order=order).run()


def fit_rows(model, X, y, task, spec, order=None, class_names=None):
    """The rows a search may see: those fit_with_holdout fits on (the holdout stays out, so its metric stays
    honest); the same split as the evaluation, from the same options and random_state."""
    from .evaluation import split_rows

    rows, _ = split_rows(model, y, task, len(X), holdout_size=spec.get("holdout_size", 0.2),
                         random_state=spec.get("random_state"), split=spec.get("split") or "auto", order=order,
                         class_names=class_names)
    pick = (lambda values: None if values is None else np.asarray(values)[rows])  # noqa: E731
    return take(X, rows), pick(y), pick(order)

