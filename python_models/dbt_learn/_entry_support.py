"""What every entry point of the in-database runtime shares: user errors as plain messages, and a thread cap."""

import functools
import json
from contextlib import contextmanager

from .errors import DbtLearnError


@contextmanager
def user_errors(plpy):
    """Turn our exceptions into a plain ERROR whose message is the text the user should read."""
    try:
        yield
    except DbtLearnError as exc:
        plpy.error(str(exc))


def returns_user_errors(function):
    """For the functions a macro calls directly: a user error comes back as ``{"error": ...}``, which the macro
    raises as a dbt error with only that text (a Postgres ERROR would drag a Python traceback into dbt's output)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except DbtLearnError as exc:
            return json.dumps({"error": str(exc)})

    return wrapper


@contextmanager
def thread_limit(options):
    """Cap BLAS/OpenMP threads: dbt runs several models at once, each in its own backend; and let a statement
    timeout or a cancel stop the compute inside (``_interrupts.interruptible``: every fit and batch prediction runs
    in here).

    ``threads_per_model`` wins when set; otherwise the cores are shared out among dbt's threads.
    """
    from threadpoolctl import threadpool_limits

    from ._interrupts import interruptible
    from ._work_bounds import installed_work_bounds
    from .estimators import thread_budget

    with threadpool_limits(limits=thread_budget(options, installed_work_bounds())), interruptible():
        yield
