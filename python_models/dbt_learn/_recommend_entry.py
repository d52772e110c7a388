"""Entry points of the recommendation SQL functions (macros/install/recommend_functions_ddl.sql): train a
meta.task 'recommendation' model, recommend for a batch of users (ml_recommend), and for one user (row level)."""

import hashlib
import json
import os

import numpy as np

from . import registry
from ._entry_support import returns_user_errors, thread_limit, user_errors
from ._in_database import _record, _train_and_register
from ._server_io import copy_into
from ._transport import decode_float_matrix, decode_text_column
from .estimators import class_path
from .errors import ConfigurationError, ScoringError, TrainingDataError
from .lifecycle import check_lifecycle_options, config_fingerprint
from .recommendation import build_interactions, evaluate_and_fit, fingerprint
from .scoring import _COPY_HEADER, _COPY_TRAILER, _FLOAT8_OID, _INT4_OID, _array_field
from .training import Fit, frame_training_stats, numeric_training_stats

TASK = "recommendation"
_TEXT_OID = 25
_temp_tables = 0


def check_options(model, spec):
    """The recommendation options the runtime relies on (the macro checks them first, against the columns)."""
    for option in ("user_column", "item_column"):
        if not spec.get(option):
            raise ConfigurationError(f"model '{model}': meta.task 'recommendation' needs meta.user_column and "
                                     f"meta.item_column (the columns naming each interaction's user and item); "
                                     f"meta.{option} is not set.")
    top_k = spec.get("top_k", 10)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ConfigurationError(f"model '{model}': meta.top_k must be a positive integer (the k of the ranking "
                                 f"metrics and ml_recommend's default); got {top_k!r}.")
    for option, unused in (("split", spec.get("split") not in (None, "auto")), ("cv_folds", spec.get("cv_folds")),
                           ("search", spec.get("search")), ("threshold", spec.get("threshold") is not None),
                           ("target", (spec.get("target") or {}).get("name"))):
        if unused:
            raise ConfigurationError(f"model '{model}': meta.{option} does not apply to a recommender (its holdout "
                                     f"is a share of each user's interactions, meta.holdout_size); remove it.")
    check_lifecycle_options(model, spec, TASK)


@returns_user_errors
def train_recommender(plpy, model_schema, model_name, spec_json, n_rows, users, items, ratings):
    """Fit a recommender on the interactions a recommendation ml_train model sent; register it like any version."""
    spec = json.loads(spec_json)
    check_options(model_name, spec)
    user_column, item_column, rating_column = spec["user_column"], spec["item_column"], spec.get("rating_column")
    if not n_rows:
        raise TrainingDataError(f"model '{model_name}': the training view returned no interactions; check its "
                                f"filters and upstream models.")
    user_values = decode_text_column(users, n_rows, model=model_name, column=user_column)
    item_values = decode_text_column(items, n_rows, model=model_name, column=item_column)
    rating_values = (decode_float_matrix(ratings, n_rows, 1, model=model_name)[:, 0] if rating_column else None)
    interactions = build_interactions(model_name, user_values, item_values, rating_values, user_column=user_column,
                                      item_column=item_column, rating_column=rating_column)
    top_k = spec.get("top_k", 10)

    def fit():
        import pandas as pd

        with thread_limit(spec):
            recommender, metrics, evaluation, seconds = evaluate_and_fit(
                model_name, spec.get("algorithm"), spec.get("params"), spec.get("random_state"), interactions,
                holdout_size=spec.get("holdout_size", 0.2), top_k_=top_k, refit=spec.get("refit", True))
        result = Fit(recommender, metrics, seconds, evaluation["holdout_rows"], evaluation)
        stats = frame_training_stats(pd.DataFrame({user_column: user_values, item_column: item_values}))
        if rating_values is not None:
            stats.update(numeric_training_stats([rating_column], rating_values[:, None]))
        record = _record(spec, model_schema, model_name, "sql", TASK, result, None, spec["features"], n_rows, stats)
        record["algorithm"] = class_path(type(recommender.estimator))  # the factoriser, not the wrapper
        return result, record

    return _train_and_register(plpy, spec, model_schema, model_name, fingerprint(interactions),
                               _config_fingerprint(spec), fit)


def _config_fingerprint(spec):
    # The lifecycle options, plus what only a recommender reads (the columns are in spec["features"]).
    digest = hashlib.sha256(config_fingerprint(spec).encode())
    digest.update(json.dumps({key: spec.get(key) for key in ("task", "top_k")}, sort_keys=True).encode())
    return digest.hexdigest()


def _recommender(model_name, recommender, meta):
    if meta["task"] != TASK:
        raise ScoringError(f"model '{model_name}' is a {meta['task']} model, not a recommender (meta.task "
                           f"'recommendation'); score it with ml_score.")
    return recommender


def recommend_into_temp(plpy, model_schema, model_name, version, n_users, users, k, options_json):
    """Top-k items for a batch of users into a new temporary table of one row of arrays (user_position, item,
    rank, score), loaded from a binary COPY file; returns the table's name (dbt_learn.recommend_batch returns the
    row; the table is dropped at commit). user_position numbers the batch's users from 1."""
    global _temp_tables
    with user_errors(plpy):
        recommender = _recommender(model_name, *registry.load_version(plpy, model_schema, model_name, version))
        options = json.loads(options_json or "{}")
        _temp_tables += 1
        table = f"dbt_learn_recommendations_{os.getpid()}_{_temp_tables}"
        plpy.execute(f"create temporary table {plpy.quote_ident(table)} (user_position int4[], item text[], "
                     f"rank int4[], score float8[]) on commit drop")
        if not n_users:
            return table
        values = decode_text_column(users, n_users, model=model_name, column="user", error=ScoringError)
        with thread_limit(options):
            position, item, rank, score = recommender.recommend(
                model_name, values, k, exclude_seen=options.get("exclude_seen", True),
                cold_start=options.get("cold_start") or "popular")
        copy_into(plpy, table, copy_recommendations(recommender.items, position + 1, item, rank, score))
        return table


def recommend_row(plpy, model_schema, model_name, user_value, k):
    """Row-level: one user's top-k ``(item, rank, score)`` rows with the serving version (cached per backend)."""
    with user_errors(plpy):
        recommender = _recommender(model_name, *registry.serving_model(plpy, model_schema, model_name))
        if user_value is None:
            raise ScoringError(f"model '{model_name}': dbt_learn.recommend got a NULL user.")
        _, item, rank, score = recommender.recommend(model_name, np.array([user_value], dtype=object), k)
        return [(recommender.items[i], int(r), float(s)) for i, r, s in zip(item, rank, score)]


def copy_recommendations(items, position, item, rank, score):
    """One COPY row ``(int4[], text[], int4[], float8[])``; the text array is gathered from the encoded catalog in
    numpy, without a Python object per recommendation."""
    n = len(position)
    fields = [_array_field(position, ">i4", _INT4_OID, n), _text_array_field(items, item),
              _array_field(rank, ">i4", _INT4_OID, n), _array_field(score, ">f8", _FLOAT8_OID, n)]
    return _COPY_HEADER + np.array(4, ">i2").tobytes() + b"".join(fields) + _COPY_TRAILER


def _text_array_field(catalog, index):
    encoded = [value.encode("utf-8") for value in catalog]
    sizes = np.fromiter((4 + len(value) for value in encoded), dtype=np.int64, count=len(encoded))
    blob = np.frombuffer(b"".join(len(value).to_bytes(4, "big") + value for value in encoded), dtype=np.uint8)
    offsets = np.cumsum(sizes) - sizes
    index = np.asarray(index, dtype=np.int64)
    wanted = sizes[index]
    total = int(wanted.sum())
    gather = np.repeat(offsets[index] - (np.cumsum(wanted) - wanted), wanted) + np.arange(total)
    header = np.array([20 + total, 1, 0, _TEXT_OID, len(index), 1], ">i4")
    return header.tobytes() + blob[gather].tobytes()
