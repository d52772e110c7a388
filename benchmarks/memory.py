"""Peak private memory (RssAnon) of the cluster's backends while a pipeline runs, sampled every 20 ms.

The sampling costs some CPU, so the benchmark measures memory in a separate, untimed run.

RssAnon is what a backend allocated for itself (Python objects, numpy arrays, aggregate state); shared buffers are
excluded, since every backend maps them and they are sized by the server's configuration.
"""

import pathlib
import threading

PGDATA = pathlib.Path(__file__).resolve().parent.parent / ".dbt_learn_local" / "pgdata"


def _postmaster_pid():
    try:
        return int((PGDATA / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _backends(postmaster):
    # The kernel lists a process's children directly: far cheaper than scanning /proc every few milliseconds.
    try:
        return pathlib.Path("/proc", str(postmaster), "task", str(postmaster), "children").read_text().split()
    except OSError:
        return []


def rss_anon(pid):
    try:
        for line in pathlib.Path("/proc", pid, "status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class PeakBackendMemory:
    """``with PeakBackendMemory() as peak: ...`` then ``peak.bytes`` (None when the cluster is not ours)."""

    def __init__(self, interval=0.02):
        self.interval, self.bytes = interval, None
        self._stop = threading.Event()
        self._postmaster = _postmaster_pid()

    def _sample(self):
        while not self._stop.is_set():
            current = max((rss_anon(pid) for pid in _backends(self._postmaster)), default=0)
            self.bytes = max(self.bytes or 0, current)
            self._stop.wait(self.interval)

    def __enter__(self):
        if self._postmaster is not None:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._postmaster is not None:
            self._stop.set()
            self._thread.join()
