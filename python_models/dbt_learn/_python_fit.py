"""Turning what a dbt Python model returned into a fit: the frame dbt.ref() loaded, split into features and target."""

from .errors import ConfigurationError, TrainingDataError
from .evaluation import compute_metrics


def evaluate_fitted(model, task, fitted, X, y):
    # No holdout exists for an estimator the model code fitted itself: score it on the rows dbt.ref() loaded.
    if X is None or not len(X):
        return {}
    try:
        metrics = compute_metrics(task, fitted, X, y)
    except ValueError as exc:
        raise TrainingDataError(f"model '{model}': the fitted estimator cannot predict the training view: {exc}")
    return {**metrics, "evaluated_on": "training rows (the model code fitted the estimator)"}


def split_frame(model, frame, target_name, spec):
    if target_name and target_name not in frame.columns:
        raise TrainingDataError(
            f"model '{model}': target column '{target_name}' is not in the frame dbt.ref() returned; its columns "
            f"are: {', '.join(map(str, frame.columns))}.")
    dropped = [c for c in [target_name, *(spec.get("id_columns") or []), *(spec.get("exclude_columns") or [])]
               if c and c in frame.columns]
    y = frame[target_name].to_numpy() if target_name else None
    if y is not None and frame[target_name].isna().any():
        raise TrainingDataError(
            f"model '{model}': target column '{target_name}' has NULLs; filter them out in the training view.")
    return frame.drop(columns=dropped), y


def frame_features(model, names, frame):
    pg_types = frame.attrs.get("pg_types", {}) if frame is not None else {}
    numeric_categories = frame.attrs.get("numeric_columns", set()) if frame is not None else set()
    if frame is not None:
        missing = [name for name in names if name not in pg_types]
        if missing:
            raise ConfigurationError(
                f"model '{model}': the estimator expects features {missing} that the training view does not have.")
    return [{"name": name, "type": pg_types.get(name, "double precision"),
             "kind": "numeric" if name in numeric_categories or frame is None else "categorical"} for name in names]
