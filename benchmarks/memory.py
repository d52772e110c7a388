"""Peak private memory (RssAnon) of the cluster's backends while a pipeline runs, sampled every 10 ms.

RssAnon is what a backend allocated for itself (Python objects, numpy arrays, aggregate state); shared buffers are
excluded, since every backend maps them and they are sized by the server's configuration.
"""

import os
import pathlib
import threading

PGDATA = pathlib.Path(__file__).resolve().parent.parent / ".dbt_learn_local" / "pgdata"


def _postmaster_pid():
    try:
        return int((PGDATA / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _backends(postmaster):
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = pathlib.Path(entry.path, "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                    yield entry.name
            except (OSError, ValueError, IndexError):
                continue


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

    def __init__(self, interval=0.01):
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
