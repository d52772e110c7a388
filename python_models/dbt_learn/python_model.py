"""Running a dbt Python model's code inside the database.

dbt compiles a ``.py`` model into the user's code followed by its own helpers (``dbtObj``, ``ref``, ``config``). We
compile it under the model's own file name, so a traceback points at the user's file and line, and call
``model(dbt, session)`` with a ``dbt.ref()`` that returns a pandas DataFrame loaded in bulk.
"""

import traceback

from .errors import ModelCodeError


class _FrameRecorder:
    """The load function handed to ``dbtObj``: loads relations and remembers the last one for fitting."""

    def __init__(self, load_relation):
        self._load_relation = load_relation
        self.frames = []

    def __call__(self, relation_name):
        frame = self._load_relation(relation_name)
        self.frames.append(frame)
        return frame


def run_model_code(model, code, filename, load_relation):
    """Execute the compiled model code; returns ``(returned_object, frames_loaded_by_ref)``."""
    recorder = _FrameRecorder(load_relation)
    returned = call_model(model, code, filename, lambda dbt_object: (dbt_object(recorder), None))
    return returned, recorder.frames


def call_model(model, code, filename, arguments):
    """Compile dbt's model code under the user's file name and return what ``model(dbt, session)`` returns; any
    error is reported at the user's file and line. ``arguments(dbtObj)`` gives ``(dbt, session)`` from the
    ``dbtObj`` class dbt's compiled code defines."""
    namespace = {"__name__": f"dbt_learn_model_{model}", "__file__": filename}
    try:
        compiled = compile(code, filename, "exec")
        exec(compiled, namespace)  # noqa: S102 - running the user's model is the point; see docs/security.md
        model_function = namespace.get("model")
        if not callable(model_function):
            raise ModelCodeError(f"model '{model}' ({filename}): define a function `def model(dbt, session):`.")
        return model_function(*arguments(namespace["dbtObj"]))
    except ModelCodeError:
        raise
    except SyntaxError as exc:
        raise ModelCodeError(f"model '{model}' ({filename}, line {exc.lineno}): SyntaxError: {exc.msg}") from None
    except Exception as exc:  # the user's code can raise anything; report it at the user's line
        raise ModelCodeError(_describe_user_error(model, filename, code, exc)) from None


def _describe_user_error(model, filename, code, exc):
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == filename]
    lines = code.splitlines()
    where = ""
    if frames:
        last = frames[-1]
        source = lines[last.lineno - 1].strip() if 0 < last.lineno <= len(lines) else ""
        where = f", line {last.lineno}, in {last.name}: {source}"
    return f"model '{model}' ({filename}{where}): {type(exc).__name__}: {exc}"


def check_estimator(model, filename, returned):
    """The model function must return a scikit-learn estimator (or Pipeline)."""
    from sklearn.base import BaseEstimator

    if not isinstance(returned, BaseEstimator) or not hasattr(returned, "fit"):
        raise ModelCodeError(
            f"model '{model}' ({filename}): model() returned {type(returned).__name__}; an ml_train Python model "
            f"must return a scikit-learn estimator or Pipeline, fitted or not."
        )
    return returned


def is_fitted(estimator):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True
