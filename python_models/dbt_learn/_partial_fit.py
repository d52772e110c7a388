"""meta.partial_fit: train an estimator that has ``partial_fit`` over the whole training view in chunks, so the
backend holds a chunk (var dbt_learn_training_chunk_mb, default 64 MB) rather than the table.

``train`` runs inside the SECURITY INVOKER dbt_learn.train_query (every read with the caller's privileges):
a survey pass (rows, labels, fingerprint); the preprocessing (preprocessing.build, as without partial_fit) fitted
on a deterministic hash sample of at most 100,000 fit rows, which also gives the drift baseline; then per epoch one
cursor pass: decode a chunk, leave out the holdout rows (the top ``holdout_size`` of the seeded row hash, never fit;
at most about 200,000 of them kept to evaluate on), transform, shuffle with the seed, ``partial_fit``. The fitted
model is staged; ``register`` (called by the SECURITY DEFINER dbt_learn.train_staged) evaluates it on the holdout
and registers it through _in_database._train_and_register, like every other model: nothing is registered or
deployed until the last chunk is fitted, so a failed training leaves the deployed version serving.
"""

import hashlib
import json
import time
from dataclasses import dataclass

import numpy as np

from . import _partial_fit_options as options_
from . import _partial_fit_read as read_
from . import _diagnostics, preprocessing, registry
from .errors import ConfigurationError, TrainingDataError
from .estimators import build_estimator
from .lifecycle import config_fingerprint, unchanged_since


@dataclass
class Staged:
    """What train_staged registers: the fitted estimator (None when the retrain policy will skip) and its holdout."""
    data_fingerprint: str
    task: str
    classes: list = None
    target_type: str = None  # 'text' for an enum target, as the batch path records it
    estimator: object = None
    holdout: tuple = None  # (X as the estimator takes it, y), or None without a holdout
    sample_X: object = None  # the preprocessing sample as the estimator takes it (prediction stats without holdout)
    stats: dict = None
    settings: object = None
    summary: dict = None
    fit_seconds: float = 0.0


def train(plpy, model_schema, model_name, spec, query):
    from ._entry_support import thread_limit
    from ._training_entry import _prepare

    settings_ = options_.check_options(model_name, spec)
    epochs, seed = settings_["epochs"], settings_["seed"]
    _, chunk_bytes = options_.chunk_limit(model_name, spec)
    options_.check_estimator(model_name, build_estimator(model_name, spec["algorithm"], spec.get("params"),
                                                         spec.get("random_state"), registry.allowed_packages(plpy)))
    survey = read_.survey(plpy, model_name, spec, query)
    estimator, task, settings = _prepare(plpy, model_name, spec, survey.classes)
    features = spec["features"]
    n_texts = sum(1 for f in features if f["kind"] == "categorical")
    width = len(features) - n_texts
    rows_per_chunk = options_.chunk_rows(chunk_bytes, 8 * (width + (task == "regression")), n_texts)
    fingerprint = hashlib.sha256(json.dumps(["partial_fit", survey.fingerprint, survey.classes, epochs, seed,
                                             rows_per_chunk]).encode()).hexdigest()
    staged = Staged(fingerprint, task, survey.classes, target_type=survey.target_type)
    # The model's lock before the skip check, held to the commit: an overlapping run waits, then skips.
    registry.lock_model(plpy, model_schema, model_name)
    if _will_skip(plpy, spec, model_schema, model_name, fingerprint):
        return staged  # train_staged's retrain policy skips it: no pass over the rows
    holdout_size = spec.get("holdout_size", 0.2) or 0
    holdout_start, holdout_keep = options_.holdout_thresholds(survey.n_rows, holdout_size)
    model = preprocessing.build(model_name, estimator, features, settings) if settings is not None else estimator
    frame = preprocessing.takes_frame(model)
    sampled = read_.sample(plpy, model_name, spec, query, survey.classes,
                           options_.sample_threshold(survey.n_rows, holdout_size), options_.PREPROCESSING_ROWS, seed)
    if sampled is None:
        raise _all_in_holdout(model_name)
    numeric_names = [f["name"] for f in features if f["kind"] != "categorical"]
    _refuse_infinity(model_name, numeric_names, sampled[0])
    staged.stats, sample_X = _sample_stats(model_name, features, settings, frame, *sampled)
    final = preprocessing.final_estimator(model)
    prepare = model[:-1] if preprocessing.is_pipeline(model) else None  # the same step objects: fitted in place
    with thread_limit(spec):
        if prepare is not None:
            prepare.fit(sample_X)
        staged.sample_X = sample_X
        rng = np.random.default_rng(seed)
        fit_kwargs = {"classes": np.arange(len(survey.classes))} if task == "classification" else {}
        holdout = _Holdout(model_name, width, task) if holdout_keep is not None else None
        started, chunks_done, rows_fit = time.perf_counter(), 0, 0
        for epoch in range(1, epochs + 1):
            epoch_rows = 0
            for chunk in read_.chunks(plpy, model_name, spec, query, survey.classes, rows_per_chunk):
                fit_rows = np.flatnonzero(chunk.hashes < holdout_start) if holdout_start is not None else None
                if holdout is not None and epoch == 1:
                    holdout.add(chunk, np.flatnonzero(chunk.hashes >= holdout_keep))
                n_fit = len(chunk.hashes) if fit_rows is None else len(fit_rows)
                if not n_fit:
                    continue
                order = rng.permutation(n_fit)
                X, y, texts = _take(chunk, order if fit_rows is None else fit_rows[order])  # one copy: fit, shuffled
                del chunk  # its rows now live in X alone
                _refuse_infinity(model_name, numeric_names, X)
                X = _as_input(features, X, texts, frame)
                if prepare is not None:
                    X = prepare.transform(X)
                _partial_fit(model_name, final, X, y, fit_kwargs)
                del X, y, texts  # before the next chunk is read: one chunk's rows alive at a time
                chunks_done += 1
                epoch_rows += n_fit
            if epoch == 1:
                rows_fit = epoch_rows
            plpy.notice(f"dbt_learn: model '{model_name}' partial_fit epoch {epoch}/{epochs}: {epoch_rows:,} rows, "
                        f"{chunks_done:,} chunks so far, {time.perf_counter() - started:.1f} s")
    if not rows_fit:
        raise _all_in_holdout(model_name)
    staged.fit_seconds = time.perf_counter() - started
    staged.estimator, staged.settings = model, settings
    staged.holdout = holdout.decoded(features, frame) if holdout is not None else None
    staged.summary = {"epochs": epochs, "seed": seed, "rows_fit": rows_fit, "chunks": chunks_done,
                      "rows_per_chunk": rows_per_chunk, "rows_seen": survey.n_rows,
                      "holdout_rows": 0 if staged.holdout is None else len(staged.holdout[0]),
                      "preprocessing_sample_rows": len(sampled[0]),
                      "training_stats_from": "the preprocessing sample"}
    return staged


def _all_in_holdout(model_name):
    return TrainingDataError(f"model '{model_name}': every row of the training view fell in the holdout; lower "
                             f"meta.holdout_size.")


def _will_skip(plpy, spec, model_schema, model_name, fingerprint):
    """Whether the retrain policy will skip this training (train_staged decides; this only saves the passes).
    Reads the registry with the caller's privileges; when it cannot, trains."""
    if (spec.get("retrain_policy") or "on_change") != "on_change" or spec.get("force"):
        return False
    try:
        with plpy.subtransaction():
            versions = registry.fingerprints(plpy, model_schema, model_name)
    except plpy.SPIError:
        return False
    return bool(unchanged_since(versions, fingerprint, config_fingerprint(spec)))


def _refuse_infinity(model_name, names, X):
    """Infinity in a feature is refused as a batch training refuses it (_training_entry), naming the column: a value,
    not a NULL, which no imputer replaces and scikit-learn would refuse without naming it."""
    from ._training_entry import infinite_feature_advice

    infinite = np.isinf(X)
    if infinite.any():
        column = int(np.flatnonzero(infinite.any(axis=0))[0])
        name, count = names[column], int(infinite[:, column].sum())
        raise TrainingDataError(f"model '{model_name}': feature column '{name}' has Infinity or -Infinity in {count} "
                                f"of the {len(X)} rows read together; {infinite_feature_advice(name)}.")


def _sample_stats(model_name, features, settings, frame, X, y, texts):
    from ._transport import feature_frame
    from .training import frame_training_stats, numeric_training_stats

    numeric_names = [f["name"] for f in features if f["kind"] != "categorical"]
    text_names = [f["name"] for f in features if f["kind"] == "categorical"]
    stats = numeric_training_stats(numeric_names, X)
    if not frame:
        return stats, X
    sample = feature_frame(features, X, texts)
    preprocessing.check_training_frame(model_name, sample, features, settings)
    stats.update(frame_training_stats(sample[text_names]))
    return {f["name"]: stats[f["name"]] for f in features}, sample


def _take(chunk, rows):
    if rows is None:
        return chunk.X, chunk.y, chunk.texts
    return chunk.X[rows], None if chunk.y is None else chunk.y[rows], [t[rows] for t in chunk.texts]


def _as_input(features, X, texts, frame):
    if not frame:
        return X
    from ._transport import feature_frame

    return feature_frame(features, X, texts)


def _partial_fit(model_name, estimator, X, y, kwargs):
    from .training import fit_errors

    with fit_errors(model_name, type(estimator).__name__, "partial_fit",
                    "; fill them in the training view (coalesce) or keep the default preprocessing."):
        if y is None:
            estimator.partial_fit(X)
        else:
            estimator.partial_fit(X, y, **kwargs)


class _Holdout:
    """The kept holdout rows, as RowBlocks and codes like a training batch, decoded once at the end."""

    def __init__(self, model_name, width, task):
        from ._training_read import Codes
        from ._training_rows import RowBlocks

        self.task = task
        self.blocks = RowBlocks(width, task == "regression", model=model_name)
        self.labels, self.texts, self._codes = [], None, Codes

    def add(self, chunk, rows):
        if not len(rows):
            return
        if self.texts is None:
            self.texts = [self._codes() for _ in chunk.texts]
        size = self.blocks.row_size
        if size:
            records = chunk.records.view(f"V{size}")[rows]
            self.blocks.add(records.tobytes())
        else:
            self.blocks.add(b"", len(rows))
        if self.task == "classification":
            self.labels.append(chunk.y[rows])
        for codes, column in zip(self.texts, chunk.texts):
            codes.add([None if isinstance(v, float) else v for v in column[rows]])

    def decoded(self, features, frame):
        from ._training_rows import decode

        if self.blocks.n_rows == 0:
            return None
        kind = {"classification": "int4", "regression": "float8"}.get(self.task)
        X, y, _, texts = decode(self.blocks, kind, classes=np.concatenate(self.labels) if self.labels else None,
                                text_columns=[c.decoded() for c in self.texts or []])
        return _as_input(features, X, texts, frame), y


def register(plpy, model_schema, model_name, spec, staged):
    """The SECURITY DEFINER half: evaluate on the holdout, record, register and deploy (_train_and_register)."""
    from . import _in_database as core
    from .evaluation import compute_metrics, model_outputs
    from .training import Fit, _prediction_baseline, training_prediction_stats

    features, task, classes = spec["features"], staged.task, staged.classes
    if staged.target_type:
        spec["target"] = {**spec["target"], "type": staged.target_type}
    threshold = spec.get("threshold")

    def fit():
        if staged.estimator is None:
            raise ConfigurationError(f"model '{model_name}': its registry changed while it was read; rerun the model.")
        model = staged.estimator
        evaluation = {"split": "row hash (partial_fit)", "holdout_size": spec.get("holdout_size", 0.2) or 0,
                      "holdout_rows": 0, "refit": False, "cv_folds": 0, "partial_fit": staged.summary}
        if threshold is not None:
            evaluation["threshold"] = threshold
        metrics, X, y, index = {}, staged.sample_X, None, None
        if staged.holdout is not None:
            X, y = staged.holdout
            index = np.arange(len(X))
            outputs = model_outputs(task, model, X, threshold)
            metrics = compute_metrics(task, model, X, y, outputs)
            evaluation["holdout_rows"] = len(X)
            evaluation["prediction_stats"] = _prediction_baseline(task, model, model, X, index, outputs, classes,
                                                                  threshold)
        else:
            evaluation["prediction_stats"] = training_prediction_stats(task, model, X, classes, threshold)
        result = Fit(model, metrics, staged.fit_seconds, evaluation["holdout_rows"], evaluation, index, model)
        record = core._record(spec, model_schema, model_name, "sql", task, result, classes, features,
                              staged.summary["rows_fit"], staged.stats)
        record["preprocessing"] = preprocessing.describe(model, features, staged.settings)
        if y is not None or task not in ("classification", "regression"):
            record["feature_importances"] = core._importances(model_name, spec, task, result, X, y, features)
        if y is not None:  # the diagnostics of the row-hash holdout, from the outputs its metrics used
            record["diagnostics"] = _diagnostics.compute(task, model, X, y, class_names=classes, threshold=threshold,
                                                         outputs=outputs)
        return result, record

    return core._train_and_register(plpy, spec, model_schema, model_name, staged.data_fingerprint,
                                    config_fingerprint(spec), fit)
