"""(F) The client pipelines over a network: (B) and (C) run again from a network namespace that reaches Postgres
through a veth pair shaped with tc (netem) to 1 Gbit/s and 0.5 ms of delay, like a same-region cloud link. Where the
kernel has no netem, the link is rate-limited with tbf and carries no added delay (the report names the shaping).

Needs root (namespaces, tc) and the repository's private cluster, which is restarted once to listen on the link's
address and once more to stop listening on it; the pg_hba line added for the link is removed again. Where any of
this is not possible, ``ShapedLink.unavailable()`` says why and the benchmark skips (F).
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
PGDATA = REPO / ".dbt_learn_local" / "pgdata"
RATE, DELAY = "1gbit", "0.5ms"


def _run(*command, check=True):
    return subprocess.run(command, check=check, capture_output=True, text=True)


class ShapedLink:
    def __init__(self, port):
        self.port = int(port)
        octet = self.port % 250 + 1  # one subnet per clone's cluster port, so two clones cannot collide
        self.namespace, self.host_side, self.ns_side = f"dbtl{self.port}", f"dbtlh{self.port}", f"dbtln{self.port}"
        self.host_ip, self.ns_ip = f"10.213.{octet}.1", f"10.213.{octet}.2"
        self.pg_bin = pathlib.Path(os.environ.get("DBT_LEARN_PG_BIN", "/usr/lib/postgresql/15/bin"))
        self.hba_line = f"host all all {self.ns_ip}/32 scram-sha-256  # dbt_learn benchmark link"

    @staticmethod
    def unavailable():
        """Why (F) cannot run here, or None."""
        if os.geteuid() != 0:
            return "it needs root to create a network namespace and shape it with tc"
        if not (shutil.which("ip") and shutil.which("tc")):
            return "the ip and tc commands (iproute2) are missing"
        if not (PGDATA / "PG_VERSION").exists():
            return "it restarts the repository's private cluster, and there is none (make setup creates it)"
        probe = _run("ip", "netns", "add", "dbtl_probe", check=False)
        if probe.returncode:
            return f"network namespaces are not permitted: {probe.stderr.strip()}"
        _run("ip", "netns", "del", "dbtl_probe", check=False)
        return None

    def __enter__(self):
        self._teardown_link()
        _run("ip", "netns", "add", self.namespace)
        _run("ip", "link", "add", self.host_side, "type", "veth", "peer", "name", self.ns_side)
        _run("ip", "link", "set", self.ns_side, "netns", self.namespace)
        _run("ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_side)
        _run("ip", "link", "set", self.host_side, "up")
        inside = ("ip", "netns", "exec", self.namespace)
        _run(*inside, "ip", "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_side)
        _run(*inside, "ip", "link", "set", self.ns_side, "up")
        _run(*inside, "ip", "link", "set", "lo", "up")
        self.shaping = self._shape(inside)
        hba = PGDATA / "pg_hba.conf"
        hba.write_text(hba.read_text() + self.hba_line + "\n")
        self._restart(f"listen_addresses='127.0.0.1,{self.host_ip}'")
        return self

    def __exit__(self, *exc):
        hba = PGDATA / "pg_hba.conf"
        hba.write_text("".join(line for line in hba.read_text().splitlines(keepends=True)
                               if line.rstrip("\n") != self.hba_line))
        self._restart(None)
        self._teardown_link()

    def _shape(self, inside):
        """netem: 0.5 ms each way on top of the rate limit, what a same-region link adds to every round trip.
        Kernels without sch_netem get a token bucket (tbf) at the same rate and no added delay; the report says so."""
        netem = ("root", "netem", "delay", DELAY, "rate", RATE)
        host = _run("tc", "qdisc", "add", "dev", self.host_side, *netem, check=False)
        if host.returncode == 0:
            _run(*inside, "tc", "qdisc", "add", "dev", self.ns_side, *netem)
            return f"netem: {RATE} and {DELAY} each way"
        tbf = ("root", "tbf", "rate", RATE, "burst", "256kb", "latency", "50ms")
        _run("tc", "qdisc", "add", "dev", self.host_side, *tbf)
        _run(*inside, "tc", "qdisc", "add", "dev", self.ns_side, *tbf)
        return (f"tbf: {RATE} and no added delay - this kernel has no netem qdisc "
                f"(tc: {(host.stderr.strip() or 'netem refused').splitlines()[0]})")

    def _restart(self, options):
        owner = PGDATA.stat().st_uid
        import pwd

        command = [str(self.pg_bin / "pg_ctl"), "-D", str(PGDATA), "-l", str(PGDATA.parent / "postgres.log"),
                   "-m", "fast", "-w", "-t", "60", "restart"]
        # pg_ctl remembers -o in postmaster.opts; an empty -o restores the settings in the config files.
        command += ["-o", f"-c {options}" if options else ""]
        subprocess.run(["runuser", "-u", pwd.getpwuid(owner).pw_name, "--", *command], check=True,
                       capture_output=True, cwd="/")

    def _teardown_link(self):
        _run("ip", "netns", "del", self.namespace, check=False)
        _run("ip", "link", "del", self.host_side, check=False)

    def run_pipelines(self, dataset, kind, repeats):
        """Run (B) and (C) from inside the namespace; returns {pipeline: [timings per repeat]} and the round trip."""
        env = {**os.environ, "DBT_LEARN_HOST": self.host_ip}
        completed = subprocess.run(
            ["ip", "netns", "exec", self.namespace, sys.executable, "-m", "benchmarks.remote_client",
             json.dumps({"rows": dataset.rows, "features": dataset.features, "task": dataset.task,
                         "categorical": dataset.categorical, "kind": kind, "repeats": repeats})],
            cwd=REPO, env=env, capture_output=True, text=True)
        if completed.returncode:
            raise RuntimeError(f"the remote pipelines failed:\n{completed.stderr[-3000:]}")
        return json.loads(completed.stdout.strip().splitlines()[-1])
