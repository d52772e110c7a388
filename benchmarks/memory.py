"""Peak private memory (RssAnon) of the cluster's backends while a pipeline runs, sampled every 20 ms.

The sampling costs some CPU, so the benchmark measures memory in a separate, untimed run.

RssAnon is what a backend allocated for itself (Python objects, numpy arrays, aggregate state); shared buffers are
excluded, since every backend maps them and they are sized by the server's configuration.

``python -m benchmarks.memory`` measures the training backend alone (TrainingBackendMemory: the one backend that runs
``dbt_learn.train_query`` for the benchmark's ml_train model, sampled every 5 ms, above its memory once its imports
are done), for regression and classification, linear and histogram gradient boosting, at ``--rows`` x ``--features``;
``--sample-rows N`` trains ``bench_model_sampled`` with ``meta.sample: {rows: N}`` instead (a 30M-row table).
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


# --- The training backend alone (python -m benchmarks.memory) ---------------------------------------------------
# The sampler above takes the largest of all backends, which on a shared cluster may be someone else's. This one
# follows the single backend that runs `dbt_learn.train_query(` (or the earlier `dbt_learn.train(`) for one model of
# one schema, from the moment its query starts (its imports are done: the materialization called describe_algorithm
# on the same connection) to its end.


def _status(pid):
    fields = {}
    try:
        for line in pathlib.Path("/proc", str(pid), "status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssShmem", "VmHWM", "VmRSS"):
                fields[key] = int(value.split()[0]) * 1024
    except OSError:
        return None
    return fields if "RssAnon" in fields else None  # a zombie has no memory lines


class TrainingBackendMemory:
    """``with TrainingBackendMemory(schema) as m: <dbt run of one ml_train model>`` then ``m.growth``: the peak
    RssAnon of the backend that ran ``dbt_learn.train`` for a model of ``schema``, above its RssAnon when the training
    statement started; ``m.timeline`` holds (seconds, RssAnon bytes) samples every ``interval`` seconds."""

    def __init__(self, schema, interval=0.005):
        self.schema, self.interval = schema, interval
        self.pid = self.baseline = self.peak = self.hwm_growth = None
        self.timeline = []
        self._stop = threading.Event()

    def _find(self, conn):
        row = conn.execute(
            "select pid from pg_stat_activity where pid <> pg_backend_pid() and query like %s and query like %s",
            ["%dbt_learn.train%(%", f"%'{self.schema}'%"]).fetchone()
        return row[0] if row else None

    def _sample(self):
        import time

        from .connection import connect

        with connect(admin=True) as conn:
            while self.pid is None and not self._stop.is_set():
                self.pid = self._find(conn)
                if self.pid is None:
                    self._stop.wait(0.01)
        if self.pid is None:
            return
        first = _status(self.pid)
        if first is None:
            return
        self.baseline, started = first["RssAnon"], time.perf_counter()
        self.peak, last = first["RssAnon"], first
        while not self._stop.is_set():
            status = _status(self.pid)
            if status is None:  # the backend ended with its dbt connection
                break
            last = status
            self.peak = max(self.peak, status["RssAnon"])
            self.timeline.append((time.perf_counter() - started, status["RssAnon"]))
            time.sleep(self.interval)
        # A cross-check the sampling cannot miss: the kernel's high-water mark of the whole RSS, less the shared
        # buffers the backend touched since the start and what it had before (an upper bound on the anon peak).
        self.hwm_growth = last["VmHWM"] - first["VmRSS"] - (last["RssShmem"] - first["RssShmem"])

    @property
    def growth(self):
        return None if self.peak is None else self.peak - self.baseline

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def training_memory(dataset, kind, schema="dbt_learn_bench_memory", sample=None):
    """One `dbt run` of the benchmark's ml_train model alone, with its backend sampled; returns a dict of bytes."""
    import json
    import os
    import subprocess
    import tempfile
    import time

    from .data import SCHEMA
    from .estimators import ESTIMATORS

    project = pathlib.Path(__file__).resolve().parent / "dbt_bench"
    algorithm, params = ESTIMATORS[dataset.task][kind]
    variables = {"schema": SCHEMA, "table": dataset.table, "algorithm": algorithm, "params": params, "kind": kind}
    if sample:
        variables["sample"] = sample
    model = "bench_model_sampled" if sample else "bench_model"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch, TrainingBackendMemory(schema) as memory:
        completed = subprocess.run(
            [str(project.parent.parent / ".venv" / "bin" / "dbt"), "run", "--project-dir", str(project), "--vars",
             json.dumps(variables), "--select", model, "--target-path", scratch, "--log-path", scratch],
            env={**os.environ, "DBT_LEARN_SCHEMA": schema}, capture_output=True, text=True)
        node = json.loads((pathlib.Path(scratch) / "run_results.json").read_text())["results"][0]["execution_time"] \
            if completed.returncode == 0 else None
    if completed.returncode != 0:
        raise RuntimeError(f"dbt run of the benchmark failed:\n{completed.stdout[-4000:]}")
    rows = dataset.rows if not sample else min(dataset.rows, sample.get("rows") or dataset.rows)
    return {"growth": memory.growth, "hwm_growth": memory.hwm_growth, "matrix": 8 * rows * dataset.features,
            "timeline": memory.timeline, "node_seconds": node, "wall": time.perf_counter() - started}


def _profile(timeline, points=12):
    """A few (seconds, MiB) points of the RssAnon timeline: enough to see the aggregate, the decode and the fit."""
    if not timeline:
        return ""
    step = max(1, len(timeline) // points)
    return " ".join(f"{t:.1f}s:{rss / 2**20:.0f}" for t, rss in timeline[::step])


def main(argv=None):
    import argparse

    from . import data
    from .connection import connect

    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory",
                                     description="Peak memory growth of the training backend of one ml_train model.")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--tasks", default="regression,classification")
    parser.add_argument("--kinds", default="linear,hist_gradient_boosting")
    parser.add_argument("--sample-rows", type=int, help="train bench_model_sampled with meta.sample {rows: N}")
    parser.add_argument("--profile", action="store_true", help="print the RssAnon timeline (MiB) of each run")
    args = parser.parse_args(argv)
    sample = {"rows": args.sample_rows} if args.sample_rows else None
    print("| dataset | estimator | rows trained | train node | growth (sampled RssAnon) | growth (VmHWM bound) | "
          "float64 matrix | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for task in args.tasks.split(","):
        dataset = data.Dataset(args.rows, args.features, task)
        with connect() as conn:
            data.create(conn, dataset)
        for kind in args.kinds.split(","):
            run = training_memory(dataset, kind, sample=sample)
            print(f"| {dataset.label} | {kind} | {run['matrix'] // (8 * dataset.features):,} | "
                  f"{run['node_seconds']:.1f} s | {run['growth'] / 2**20:.0f} MiB | {run['hwm_growth'] / 2**20:.0f} MiB"
                  f" | {run['matrix'] / 2**20:.0f} MiB | {run['growth'] / run['matrix']:.2f}× |", flush=True)
            if args.profile:
                print("  ", _profile(run["timeline"]), flush=True)


if __name__ == "__main__":
    main()
