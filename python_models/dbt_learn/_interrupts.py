"""Let a statement timeout, a cancel or a terminate stop a long fit or scoring batch within a fraction of a second.

Postgres's signal handlers only set flags (QueryCancelPending, ProcDiePending); the backend acts on them at its next
CHECK_FOR_INTERRUPTS, which PL/Python code reaches only when it next calls plpy. A fit runs for minutes without one.
``interruptible()`` starts a watchdog thread (with every signal blocked, so no Postgres handler ever runs on it) that
reads those flags from the running postgres binary every POLL_SECONDS; when one is set it raises ``_Interrupted`` in
the working thread (PyThreadState_SetAsyncExc: it lands at the next Python bytecode; a long C loop finishes first, see
docs/scaling.md "Interrupting long work"). The manager then calls plpy, whose CHECK_FOR_INTERRUPTS turns the pending
request into Postgres's own error (``canceling statement due to statement timeout`` / ``... due to user request``) or
ends the backend (terminate). Outside Postgres, or if the flags cannot be found, it does nothing (said once).
"""

import ctypes
import signal
import sys
import threading
from contextlib import contextmanager

from .errors import DbtLearnError

POLL_SECONDS = 0.1
_FLAGS = ("QueryCancelPending", "ProcDiePending")  # volatile sig_atomic_t (int) globals of the postgres binary
_state = {"flags": None, "resolved": False}
_watching = threading.local()  # depth of interruptible() in this thread


class _Interrupted(BaseException):
    """Raised in the working thread: a BaseException, so a library's ``except Exception`` does not swallow it."""


class InterruptedWork(DbtLearnError):
    """The work stopped for a cancel that Postgres then did not raise (held off): still a stop, said plainly."""


def _flags():
    if not _state["resolved"]:
        _state["resolved"] = True
        try:
            binary = ctypes.CDLL(None)
            _state["flags"] = [ctypes.c_int.in_dll(binary, name) for name in _FLAGS]
        except (OSError, ValueError) as exc:
            _say_once(f"dbt_learn: statement timeouts and cancels cannot interrupt a running fit in this server "
                      f"({exc}); they take effect when the fit ends.")
    return _state["flags"]


def _say_once(message):
    plpy = sys.modules.get("plpy")
    if plpy is not None:
        plpy.notice(message)


def available():
    """True inside a Postgres backend whose interrupt flags were found."""
    return sys.modules.get("plpy") is not None and bool(_flags())


class _Watchdog:
    def __init__(self, target, flags):
        self.target, self.flags = target, flags
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.fired = False
        self.thread = threading.Thread(target=self._run, name="dbt_learn-interrupts", daemon=True)

    def start(self):
        # Started with every signal blocked, so the new thread never runs a Postgres signal handler.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            self.thread.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def _run(self):
        while not self.stopped.wait(POLL_SECONDS):
            if any(flag.value for flag in self.flags):
                with self.lock:
                    if not self.stopped.is_set():
                        self.fired = True
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.target),
                                                                   ctypes.py_object(_Interrupted))
                return

    def stop(self):
        with self.lock:
            self.stopped.set()
        self.thread.join()


def _clear_pending(target):
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), None)


@contextmanager
def interruptible():
    """Around compute that may run long without calling plpy: a cancel or timeout stops it (see the module doc)."""
    # Only the backend's own thread may call plpy: in a worker thread (_streaming's pipeline) the work stops with
    # InterruptedWork, which the backend's thread hands to raise_pending().
    backend = threading.current_thread() is threading.main_thread()
    flags = _flags() if sys.modules.get("plpy") is not None else None
    if not flags or getattr(_watching, "depth", 0):  # outside Postgres, no flags, or an outer manager watches
        yield
        return
    target = threading.get_ident()
    watchdog = _Watchdog(target, flags)
    _watching.depth = 1
    interrupted = False
    try:
        watchdog.start()
        try:
            yield
        finally:
            watchdog.stop()  # after this, nothing more is sent
            if watchdog.fired:  # sent as the work ended and not landed yet: drop it
                _clear_pending(target)
    except _Interrupted:
        interrupted = True
    except BaseException:
        if watchdog.fired and backend:  # it landed in a nested PL/Python function and came back as its error
            raise_pending()
        raise
    finally:
        _watching.depth = 0
    if interrupted or watchdog.fired:
        if backend:
            raise_pending()
        raise InterruptedWork(_STOPPED)


_STOPPED = "the work was stopped by a cancel or a statement timeout; run it again."


def raise_pending():
    """In the backend's thread: let Postgres act on the request, its CHECK_FOR_INTERRUPTS raises the cancel
    (canceling statement due to ...) or ends the backend (terminate)."""
    plpy = sys.modules["plpy"]
    plpy.execute("select 1")
    raise InterruptedWork(_STOPPED)
