"""meta.partial_fit: the pure parts (options, hash thresholds, chunk sizes), kept apart from plpy so unit tests
reach them. The training itself is _partial_fit; the reading _partial_fit_read.

A row's ``__dbt_learn_hash`` (macro row_hash_sql, seeded with partial_fit.seed) is a signed 64-bit integer that
depends only on the row's values, so every choice below is the same whatever order Postgres reads the rows in:
the holdout is the top ``holdout_size`` of the hash range, the preprocessing sample the bottom of it.
"""

import math

from .errors import ConfigurationError

DEFAULT_CHUNK_MB = 64
PREPROCESSING_ROWS = 100_000  # preprocessing and the drift baseline are fitted on at most this many rows
HOLDOUT_ROWS = 200_000  # the holdout kept in memory for the metrics: at most about this many rows
_USAGE = "meta.partial_fit takes true, or {epochs: <integer >= 1, default 1>, seed: <integer, optional>}"
# A few estimators with partial_fit, named in the refusal of one without it.
WITH_PARTIAL_FIT = ("sgd_regressor", "sgd_classifier", "passive_aggressive_classifier", "perceptron",
                    "mlp_regressor", "mlp_classifier", "gaussian_nb", "multinomial_nb", "mini_batch_kmeans")


def check_options(model_name, spec):
    """``{epochs, seed}`` of meta.partial_fit, or None when it is off; refuses what it cannot be combined with."""
    value = spec.get("partial_fit")
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, dict) or set(value) - {"epochs", "seed"}:
        raise ConfigurationError(f"model '{model_name}': {_USAGE}; got {value!r}.")
    epochs, seed = value.get("epochs", 1), value.get("seed")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ConfigurationError(f"model '{model_name}': meta.partial_fit.epochs must be an integer >= 1; {_USAGE}.")
    if seed is None:
        seed = spec.get("random_state") or 0
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigurationError(f"model '{model_name}': meta.partial_fit.seed must be an integer; {_USAGE}.")
    for key, why in (("sample", "meta.partial_fit already trains on every row; drop meta.sample (or drop "
                                "meta.partial_fit to train on the sample in memory)"),
                     ("search", "a hyperparameter search fits many candidates in memory; drop meta.search, or "
                                "search on a meta.sample without meta.partial_fit"),
                     ("cv_folds", "cross-validation refits in memory; set meta.cv_folds to 0")):
        if spec.get(key):
            raise ConfigurationError(f"model '{model_name}': meta.partial_fit cannot be combined with meta.{key}: "
                                     f"{why}.")
    if spec.get("split") == "time":
        raise ConfigurationError(f"model '{model_name}': meta.partial_fit holds out rows by a hash of their values "
                                 f"and cannot hold out the latest rows (meta.split 'time'); use split 'auto'.")
    return {"epochs": epochs, "seed": seed}


def chunk_limit(model_name, spec):
    """(megabytes, bytes) of one chunk: var dbt_learn_training_chunk_mb, default 64."""
    megabytes = spec.get("training_chunk_mb")
    megabytes = DEFAULT_CHUNK_MB if megabytes is None else megabytes
    if isinstance(megabytes, bool) or not isinstance(megabytes, (int, float)) or not megabytes > 0:
        raise ConfigurationError(f"model '{model_name}': dbt_learn_training_chunk_mb must be a positive number of "
                                 f"megabytes (got {megabytes!r}); the default is {DEFAULT_CHUNK_MB}.")
    return megabytes, int(megabytes * (1 << 20))


def chunk_rows(chunk_bytes, row_size, n_texts):
    """Rows in one chunk: its bytes over a row's record, its hash and 8 bytes per text value (a rough guess)."""
    return max(1, int(chunk_bytes // (row_size + 8 + 8 * n_texts)))


def threshold(fraction):
    """The hash below which a row falls in the bottom ``fraction`` of the hash range; None for all rows."""
    if fraction >= 1:
        return None
    return int(-(2 ** 63) + math.floor(max(fraction, 0.0) * 2 ** 64))


def holdout_thresholds(n_rows, holdout_size, bound=HOLDOUT_ROWS):
    """(start, keep): rows whose hash is >= start are held out (never fit); those >= keep are kept to evaluate
    on - about ``bound`` of them at most. (None, None) without a holdout."""
    if not holdout_size:
        return None, None
    start = threshold(1 - holdout_size)
    kept = min(holdout_size, bound / max(n_rows, 1))
    return start, max(start, threshold(1 - kept))


def sample_threshold(n_rows, holdout_size, rows=PREPROCESSING_ROWS):
    """The hash below which rows are read for the preprocessing sample: a few more than ``rows`` of the fit rows
    (the read is trimmed to exactly ``rows`` by canonical_positions), never a holdout row; None for every row."""
    fit_rows = n_rows * (1 - holdout_size)
    fraction = 1.0 if fit_rows <= rows else min(1.0, (rows + 6 * math.sqrt(rows) + 16) / fit_rows)
    return threshold(fraction * (1 - holdout_size))


def check_estimator(model_name, estimator):
    """Refuse an estimator without partial_fit, naming some that have it."""
    if not hasattr(estimator, "partial_fit"):
        raise ConfigurationError(
            f"model '{model_name}': meta.partial_fit needs an estimator with partial_fit, and "
            f"{type(estimator).__name__} has none; choose one such as {', '.join(WITH_PARTIAL_FIT)}, or drop "
            f"meta.partial_fit and train on a meta.sample.")
