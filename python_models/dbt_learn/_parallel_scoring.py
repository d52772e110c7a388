"""Scoring one table with several cores: ml_score splits a table into block ranges, one UNION ALL branch each, and
Postgres' Parallel Append hands whole branches to its parallel workers. Each branch aggregates its rows and calls
``dbt_learn.score_rows``; this module is the part of it that runs in Python, in the leader or in a worker.

No query may run here: in a parallel worker PL/Python's SPI opens a subtransaction, which Postgres refuses ("cannot
start subtransactions during a parallel operation"). So the plpgsql wrapper resolves the caller's privilege and the
version's metadata in plain SQL and passes the artifact in; estimators stay cached per process by sha256, and the
wrapper asks (``needs_artifact``) before it reads an artifact again.
"""

import json
from collections import OrderedDict

from ._entry_support import user_errors
from ._scoring_entry import score_chunk
from .serialization import load

_models = OrderedDict()  # artifact sha256 -> estimator, least recently used first
_MAX_MODELS = 4


def needs_artifact(sha256):
    return sha256 not in _models


def score_rows(plpy, model_name, meta_json, artifact, n_rows, features, texts, options_json):
    """The outputs of one branch's rows as the wrapper's OUT parameters: ``n_rows`` and the five arrays of
    scoring.output_fields (class-major probabilities, row-major contributions), None where not asked for."""
    with user_errors(plpy):
        meta = json.loads(meta_json)
        meta["preprocessing"] = meta.get("preprocessing") or {"mode": "off"}
        estimator = _estimator(model_name, meta["artifact_sha256"], artifact)
        options = json.loads(options_json or "{}")
        # Each process of the parallel plan is one of the model's threads: BLAS/OpenMP get one core each.
        options["threads_per_model"] = 1
        prediction, class_index, probabilities, positions, contributions = score_chunk(
            model_name, estimator, meta, n_rows, features, list(texts or []), options)
        return {"n_rows": n_rows, "prediction": _plain(prediction), "class_index": _plain(class_index),
                "probabilities": None if probabilities is None else probabilities.T.ravel().tolist(),
                "contribution_feature": None if positions is None else positions.ravel().tolist(),
                "contribution": None if contributions is None else contributions.ravel().tolist()}


def _plain(values):
    return None if values is None else values.tolist()


def _estimator(model_name, sha256, artifact):
    estimator = _models.get(sha256)
    if estimator is None:
        if artifact is None:  # the wrapper read no artifact because this process had it: it was evicted since
            raise RuntimeError(f"model '{model_name}': the estimator with sha256 {sha256} left this process' cache "
                               f"between two calls; rerun the model.")
        estimator = _models[sha256] = load(artifact, sha256, model_name)
        while len(_models) > _MAX_MODELS:
            _models.popitem(last=False)
    _models.move_to_end(sha256)
    return estimator
