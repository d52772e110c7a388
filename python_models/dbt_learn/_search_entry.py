"""The in-database side of meta.search: a search runs over several calls of one database session, so the dbt log can
show its progress (dbt-postgres does not show NOTICEs).

The training call starts it (``start``) and runs a first chunk of candidates; while candidates remain it returns
``{"pending": true, "token": ..., "progress": {...}}`` and the materialization (macro ``continue_training``) calls
``dbt_learn.train_continue(token)`` until the result is final. The state lives in this backend's memory (the same
dbt connection runs the whole materialization): it is dropped when the search ends, fails, or a new one starts in
the session, so an abandoned search cannot pile up.
"""

import json
import time
import uuid
from dataclasses import dataclass

import numpy as np

from ._entry_support import returns_user_errors, thread_limit
from .errors import ConfigurationError
from .search import Search, check_search, describe_params, fit_rows

_searches = {}


@dataclass
class _State:
    model: str
    spec: dict
    search: Search
    estimator: object
    complete: object
    started: float


def start(plpy, model_name, spec, estimator, X, y, task, complete, *, order=None, class_names=None):
    """Start meta.search for a training call and run its first chunk.

    ``X``, ``y`` (and ``order`` for split 'time', ``class_names`` for messages) are every training row, as
    fit_with_holdout gets them: the search takes the fit rows of the same holdout split. When the search has run
    every candidate, the best ones are set on ``estimator`` (in place, ``model__<name>`` inside a Pipeline) and
    ``complete(best_params, search_record)`` is called: it fits with the holdout, registers and deploys as without a
    search, putting ``search_record`` into evaluation['search'], and returns the training call's JSON.

    A spec without random_state gets one drawn here (written into ``spec``) so the search's fit rows are the rows
    the holdout evaluation fits on.
    """
    _searches.clear()  # one materialization at a time per session: whatever is left was abandoned
    settings = check_search(model_name, estimator, task, spec["search"])
    if spec.get("random_state") is None:
        spec["random_state"] = int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    X_fit, y_fit, order_fit = fit_rows(model_name, X, y, task, spec, order, class_names)
    search = Search(model_name, estimator, X_fit, y_fit, task, settings, random_state=spec["random_state"],
                    split=spec.get("split") or "auto", order=order_fit)
    token = uuid.uuid4().hex
    _searches[token] = _State(model_name, spec, search, estimator, complete, time.monotonic())
    return _step(token)


@returns_user_errors
def train_continue(plpy, token):
    """dbt_learn.train_continue(token): run the next chunk of a pending search; the final call returns what the
    training call would have returned without a search (plus a ``search`` summary)."""
    if token not in _searches:
        raise ConfigurationError(
            "the hyperparameter search this dbt run started is no longer in its database session (the connection "
            "was reset, or the search failed or finished); rerun the model.")
    return _step(token)


def _step(token):
    state = _searches[token]
    try:
        with thread_limit(state.spec):
            state.search.run(state.search.settings["progress_seconds"])
        if not state.search.finished:
            return json.dumps({"pending": True, "token": token, "model": state.model,
                               "progress": state.search.progress()})
        del _searches[token]
        record = state.search.record()
        best = state.search.best_params()
        state.estimator.set_params(**best)
        result = json.loads(state.complete(best, record))
        if isinstance(result, dict) and not result.get("error"):
            result["search"] = {"candidates": record["candidates"], "calls": record["calls"],
                                "seconds": record["search_seconds"], "scoring": record["scoring"],
                                "best_score": record["best_score"], "best_params": record["best_params"],
                                "text": summary(record)}
        return json.dumps(result)
    except BaseException:
        _searches.pop(token, None)
        raise


def summary(record):
    failed = f", {record['failed_candidates']} failed" if record["failed_candidates"] else ""
    return (f"{record['method']} search done: {record['candidates']} candidates x {record['folds']} folds{failed} in "
            f"{record['search_seconds']:.1f} s, best {record['scoring']}={record['best_score']:.4f} "
            f"({describe_params(record['best_params'])})")


def pending_searches():
    """Tokens of the searches this session holds (tests)."""
    return list(_searches)
