"""Estimators to bytes and back, with the sha256 recorded in the registry checked on every load.

Two formats, told apart by their first bytes (no registry column): skops (a zip archive, ``PK\\x03\\x04``), which
rebuilds an estimator from data and cannot run code on load, and a joblib pickle (``\\x80``), which can. New artifacts
are skops whenever the estimator saves and loads that way with the types this runtime trusts (``_trusted_types``);
the others (a Python model's own classes, anything skops cannot rebuild) stay pickles. A pickle is loaded only when
the version was trained by a SQL model (the runtime built it from allowed class paths) or Python models are allowed
now (docs/security.md, "Artifacts").
"""

import hashlib
import io

from ._trusted_types import RAW_INDEX_TYPES, trusted_types
from .errors import DbtLearnError, ScoringError

SKOPS_MAGIC = b"PK\x03\x04"
PICKLE_MAGIC = b"\x80"
_ALLOW = "ask the database admin to allow Python models (dbt_learn.install with allow_python_models: true)"


def dump(estimator, model):
    """Serialize with skops, else joblib (a pickle); returns ``(artifact_bytes, sha256_hex)``."""
    artifact = _skops_or_none(estimator)
    if artifact is None:
        artifact = _pickle(estimator, model)
    return artifact, hashlib.sha256(artifact).hexdigest()


def _skops_or_none(estimator):
    """The skops bytes of ``estimator`` if they hold only trusted types and load back, else None."""
    try:
        import skops.io as sio

        data = sio.dumps(estimator)
        if not set(sio.get_untrusted_types(data=data)) <= set(trusted_types()):
            return None
        sio.loads(data, trusted=list(trusted_types()))  # what loads at registration loads at scoring
    except DbtLearnError:  # a stop the runtime raised (a cancel during the work): not a reason to try a pickle
        raise
    except Exception:  # noqa: BLE001 - any failure of skops: the pickle path saves it, or says why it cannot
        return None
    return data


def _pickle(estimator, model):
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
    return buffer.getvalue()


def estimator_name(estimator):
    """The class name of an estimator, of a pipeline's last step for a pipeline."""
    steps = getattr(estimator, "steps", None)
    return type(steps[-1][1] if isinstance(steps, list) and steps else estimator).__name__


def artifact_format(artifact):
    """'skops', 'pickle' or None, from the first bytes."""
    artifact = bytes(artifact[:4])
    if artifact.startswith(SKOPS_MAGIC):
        return "skops"
    if artifact.startswith(PICKLE_MAGIC):
        return "pickle"
    return None


def load(artifact, expected_sha256, model, *, version=None, language=None, python_models_allowed=True):
    """Deserialize an artifact after checking that it is byte for byte the one that was registered.

    ``language``: model_versions.language of the version ('sql' or 'python'; None for a caller outside the database,
    which trusts its own registry). ``python_models_allowed``: whether the install allows Python models now, a bool or
    a callable asked only when the answer matters. A pickle, or a skops file holding RAW_INDEX_TYPES, is loaded only
    when the version was trained by SQL or Python models are allowed."""
    artifact = bytes(artifact)
    actual = hashlib.sha256(artifact).hexdigest()
    if actual != expected_sha256:
        raise DbtLearnError(
            f"model '{model}': the stored artifact's sha256 is {actual} but the registry recorded "
            f"{expected_sha256}; the artifact was altered. Retrain the model."
        )
    label = f"model '{model}': version {version}" if version is not None else f"model '{model}': this version"

    def trusted_origin():
        if language in (None, "sql"):
            return True
        return bool(python_models_allowed() if callable(python_models_allowed) else python_models_allowed)

    kind = artifact_format(artifact)
    if kind == "skops":
        return _load_skops(artifact, label, trusted_origin)
    if kind != "pickle":
        raise ScoringError(f"{label}'s artifact is neither a skops file nor a pickle (it starts with "
                           f"{artifact[:4]!r}); it is not loaded. Retrain the model.")
    if not trusted_origin():
        raise ScoringError(
            f"{label} was trained by a Python model and its artifact is a pickle, which can run code when loaded; "
            f"this database no longer allows Python models, so it is not loaded. Retrain it as a SQL ml_train "
            f"model, or {_ALLOW}.")
    import joblib

    try:
        return joblib.load(io.BytesIO(artifact))
    except DbtLearnError:
        raise
    except Exception as exc:  # noqa: BLE001 - a pickle that fails to load: the message, not a traceback
        raise ScoringError(f"{label}'s artifact cannot be loaded ({type(exc).__name__}: {exc}). Retrain the "
                           f"model.") from None


def load_exported(artifact, model="exported"):
    """An artifact read out of the registry by a client (a test, a notebook, a separate service): the same formats and
    trusted types as in the database, the sha256 taken from the bytes themselves (check it against
    model_versions.artifact_sha256 when the bytes crossed a boundary you do not trust)."""
    artifact = bytes(artifact)
    return load(artifact, hashlib.sha256(artifact).hexdigest(), model)


def _load_skops(artifact, label, trusted_origin):
    import skops.io as sio

    try:
        named = set(sio.get_untrusted_types(data=artifact))
    except Exception as exc:  # noqa: BLE001 - a damaged archive
        raise ScoringError(f"{label}'s artifact cannot be read ({type(exc).__name__}: {exc}). Retrain the "
                           f"model.") from None
    trusted = set(trusted_types())
    unknown = sorted(named - trusted)
    if unknown:
        raise ScoringError(f"{label}'s artifact names types this runtime does not trust ({', '.join(unknown)}); "
                           f"it is not loaded. Retrain the model.")
    raw = sorted(named & RAW_INDEX_TYPES)
    if raw and not trusted_origin():
        raise ScoringError(
            f"{label} was trained by a Python model and its artifact holds tree node storage ({', '.join(raw)}) "
            f"that scikit-learn follows without bounds checks, so a crafted one could crash the database backend; "
            f"this database no longer allows Python models, so it is not loaded. Retrain it as a SQL ml_train "
            f"model, or {_ALLOW}.")
    try:
        return sio.loads(artifact, trusted=sorted(trusted))
    except DbtLearnError:
        raise
    except Exception as exc:  # noqa: BLE001 - skops' own refusal or a failure to rebuild: the message
        raise ScoringError(f"{label}'s artifact cannot be loaded ({type(exc).__name__}: {exc}). Retrain the "
                           f"model.") from None
