"""Estimators to bytes and back, with the sha256 recorded in the registry checked on every load."""

import hashlib
import io

from .errors import DbtLearnError


def dump(estimator, model):
    """Serialize with joblib; returns ``(artifact_bytes, sha256_hex)``."""
    import joblib

    buffer = io.BytesIO()
    try:
        joblib.dump(estimator, buffer)
    except (TypeError, AttributeError, ImportError) as exc:  # pickle's "Can't pickle <class ...>" and friends
        raise DbtLearnError(
            f"model '{model}': the fitted estimator cannot be saved ({exc}). Classes and functions defined inside "
            f"a dbt Python model cannot be persisted; build the estimator from scikit-learn components."
        ) from None
    except DbtLearnError:
        raise
    except Exception as exc:  # noqa: BLE001 - any other failure of pickling (PicklingError, RecursionError, ...)
        raise DbtLearnError(
            f"model '{model}': the fitted estimator {estimator_name(estimator)} cannot be saved "
            f"({type(exc).__name__}: {exc}); nothing was registered. Use an estimator built from scikit-learn "
            f"components, or report this estimator to the dbt_learn maintainers."
        ) from None
    artifact = buffer.getvalue()
    return artifact, hashlib.sha256(artifact).hexdigest()


def estimator_name(estimator):
    """The class name of an estimator, of a pipeline's last step for a pipeline."""
    steps = getattr(estimator, "steps", None)
    return type(steps[-1][1] if isinstance(steps, list) and steps else estimator).__name__


def load(artifact, expected_sha256, model):
    """Deserialize an artifact after checking that it is byte for byte the one that was registered."""
    import joblib

    artifact = bytes(artifact)
    actual = hashlib.sha256(artifact).hexdigest()
    if actual != expected_sha256:
        raise DbtLearnError(
            f"model '{model}': the stored artifact's sha256 is {actual} but the registry recorded "
            f"{expected_sha256}; the artifact was altered. Retrain the model."
        )
    return joblib.load(io.BytesIO(artifact))
