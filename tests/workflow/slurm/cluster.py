"""A real single-node SLURM cluster on this machine, for tests: munge + slurmctld + slurmd.

Everything lives in one temporary folder (config, state, spool, logs, munge key and socket) on
free loopback ports, so the host's /etc/slurm and /etc/munge are never touched and a second
cluster (another engineer's tests) can run beside it. Client commands find this cluster through
``SLURM_CONF``, which ``env`` exports; jobs inherit it, and so does everything slurmd starts,
which is how ``stop`` finds and ends exactly the processes this cluster started.

Facts behind the settings are in shared/spec/platform.md ("Workflow infrastructure").
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
BINARIES = ["slurmctld", "slurmd", "sbatch", "srun", "squeue", "scontrol", "scancel", "munged"]
FAKE_GPUS = 2
# Declared CPUs: a 2-core CI box must still accept jobs that ask for a few threads (the small
# DAG's rules). `SlurmdParameters=config_overrides` keeps slurmd from draining the node for it.
MIN_CPUS = 4


def unavailable(install: bool = True) -> str:
    """Empty when SLURM can run here (installing the Debian packages if root); else why not."""
    if all(shutil.which(b) for b in BINARIES):
        return "" if os.geteuid() == 0 else "needs root: slurmd runs jobs as any user"
    if os.geteuid() != 0:
        return f"SLURM is not installed and installing needs root: apt-get install {' '.join(PACKAGES)}"
    if not install or not shutil.which("apt-get"):
        return f"SLURM is not installed: apt-get install {' '.join(PACKAGES)}"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        proc = subprocess.run(["apt-get", "install", "-y", "-q", *PACKAGES], env=env,
                              capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return "apt-get install of SLURM timed out after 10 min"
    if proc.returncode != 0 or not all(shutil.which(b) for b in BINARIES):
        return f"apt-get install {' '.join(PACKAGES)} failed: {proc.stderr.strip()[-300:]}"
    return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalSlurm:
    """Start with ``start()``, stop with ``stop()`` (also a context manager)."""

    def __init__(self, root: Path, partition: str = "debug"):
        self.root = Path(root)
        self.partition = partition
        self.conf = self.root / "slurm.conf"
        self.host = socket.gethostname().split(".")[0]
        self._daemons: list[subprocess.Popen] = []

    # ---- configuration --------------------------------------------------------------------
    def _write_config(self) -> None:
        for sub in ("state", "spool", "log", "munge"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "munge", 0o700)  # munged refuses group/world-writable dirs
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o600)
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        cpus = max(MIN_CPUS, os.cpu_count() or 1)
        r = self.root
        self.conf.write_text(f"""\
ClusterName=vldactest
SlurmctldHost={self.host}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={r}/munge/munge.socket
SlurmUser=root
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
# No cgroups on this kind of machine (hybrid, no systemd): plain process tracking.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
GresTypes=gpu
# No slurmdbd here: Snakemake must poll squeue, which forgets a job MinJobAge s after it ends.
MinJobAge=600
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# Fast turnaround for tests (the defaults wait 30-300 s before acting).
SchedulerParameters=sched_interval=2
KillWait=5
InactiveLimit=0
NodeName={self.host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={int(mem_kb * 0.8 / 1024)} Gres=gpu:{FAKE_GPUS} State=UNKNOWN
PartitionName={self.partition} Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
""")
        # Fake GPUs: without File= the node drains; any existing device files will do.
        (self.root / "gres.conf").write_text(
            f"NodeName={self.host} Name=gpu File=/dev/tty[0-{FAKE_GPUS - 1}]\n")

        # The jobstep plugin strips every SLURM_* variable (SLURM_CONF too) before its nested
        # srun, which then looks for /etc/slurm/slurm.conf. Real clusters have that file; we
        # leave the host's /etc alone and put an srun on PATH that restores SLURM_CONF.
        srun = self.root / "bin" / "srun"
        srun.parent.mkdir(exist_ok=True)
        srun.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {shutil.which("srun")} "$@"\n')
        srun.chmod(0o755)

    @property
    def env(self) -> dict[str, str]:
        """The environment in which SLURM commands (and Snakemake) talk to this cluster."""
        path = f"{self.root / 'bin'}:{os.environ.get('PATH', '')}"
        return {**os.environ, "SLURM_CONF": str(self.conf), "PATH": path}

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self, timeout: float = 60) -> LocalSlurm:
        self._write_config()
        m = self.root / "munge"
        self._spawn(["munged", "--foreground", "--force", f"--socket={m}/munge.socket",
                     f"--key-file={m}/munge.key", f"--pid-file={m}/munged.pid",
                     f"--log-file={m}/munged.log", f"--seed-file={m}/munged.seed"])
        self._wait(lambda: (m / "munge.socket").exists(), timeout, "munged did not start")
        self._spawn(["slurmctld", "-D", "-i", "-f", str(self.conf)])
        self._spawn(["slurmd", "-D", "-N", self.host, "-f", str(self.conf)])
        self._wait(self._node_ready, timeout, "the node did not become idle")
        return self

    def _spawn(self, argv: list[str]) -> None:
        log = open(self.root / "log" / f"{argv[0]}.out", "w")  # noqa: SIM115 - closed with the process
        self._daemons.append(subprocess.Popen(argv, env=self.env, stdout=log,
                                              stderr=subprocess.STDOUT))

    def _node_ready(self) -> bool:
        for proc in self._daemons:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited ({proc.returncode}); "
                                   f"see {self.root / 'log'}")
        state = self.run(["sinfo", "-h", "-N", "-o", "%T"], check=False).stdout.strip()
        return state in ("idle", "mixed", "allocated")

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} within {timeout:.0f} s; logs in {self.root / 'log'}")
            time.sleep(0.3)

    def run(self, argv: list[str], timeout: float = 30, check: bool = True):
        """Run a SLURM client command against this cluster (always under a timeout)."""
        return subprocess.run(argv, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=check)

    def stop(self) -> None:
        """Cancel every job, stop the daemons, and end anything they left (by pid)."""
        if any(p.poll() is None for p in self._daemons):
            self.run(["scancel", "--full", "--partition", self.partition], check=False)
        for proc in reversed(self._daemons):  # slurmd, slurmctld, then munged
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        self._daemons.clear()
        for pid in self.leftover_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def leftover_pids(self) -> list[int]:
        """Processes (slurmstepd, job steps) whose environment points at this cluster."""
        marker = f"SLURM_CONF={self.conf}".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:  # gone, or not ours to read
                continue
        return pids

    def __enter__(self) -> LocalSlurm:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
