"""The demo through a real one-node SLURM cluster on 127.0.0.1, started and stopped here.

Needs Debian's slurm-wlm and munge (.ci/run installs them when missing); skipped with the
reason when they are absent or when this machine already has a SLURM configuration of its
own (it is never overwritten). The cluster's slurm.conf must be at /etc/slurm/slurm.conf,
as on a real cluster: the SLURM job-step plugin clears SLURM_CONF inside jobs.
"""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, SMALL_DEMO, snakemake_cmd, write_config

pytestmark = pytest.mark.workflow
CONF = Path("/etc/slurm/slurm.conf")
MARK = "# written by panelmatch tests/test_slurm.py"
TOOLS = ["munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel"]


def sh(*cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_stale_cluster() -> None:
    """Stop the daemons of a test cluster that an interrupted earlier run left behind."""
    if not CONF.exists() or MARK not in CONF.read_text():
        return
    settings = dict(
        line.split("=", 1)
        for line in CONF.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    pidfiles = [settings.get("SlurmdPidFile"), settings.get("SlurmctldPidFile")]
    sock = settings.get("AuthInfo", "").removeprefix("socket=")
    if sock:
        pidfiles.append(str(Path(sock).with_name("munged.pid")))
    for pidfile in filter(None, pidfiles):
        if Path(pidfile).exists():
            sh("kill", Path(pidfile).read_text().strip())
    time.sleep(1)
    CONF.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"SLURM is not installed here (missing {', '.join(missing)})")
    if CONF.exists() and MARK not in CONF.read_text():
        pytest.skip(f"{CONF} belongs to this machine's own SLURM; not touching it")
    if os.geteuid() != 0:
        pytest.skip("starting slurmctld and slurmd needs root")
    stop_stale_cluster()
    base = tmp_path_factory.mktemp("slurm")
    munge_dir = base / "munge"
    munge_dir.mkdir(mode=0o700)
    key = munge_dir / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    sock = munge_dir / "munge.socket"
    sh(
        "munged",
        "--force",
        f"--socket={sock}",
        f"--key-file={key}",
        f"--log-file={munge_dir / 'munged.log'}",
        f"--pid-file={munge_dir / 'munged.pid'}",
        f"--seed-file={munge_dir / 'munged.seed'}",
        check=True,
    )
    host = socket.gethostname().split(".")[0]
    cpus = os.cpu_count() or 1
    mem_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20 - 2048
    for sub in ("state", "spool"):
        (base / sub).mkdir()
    CONF.parent.mkdir(parents=True, exist_ok=True)
    CONF.write_text(
        f"""{MARK}
ClusterName=panelmatch-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool
SlurmctldPidFile={base}/slurmctld.pid
SlurmdPidFile={base}/slurmd.pid
SlurmctldLogFile={base}/slurmctld.log
SlurmdLogFile={base}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=3600
MpiDefault=none
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
PartitionName=main Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""
    )
    try:
        sh("slurmctld", check=True)
        sh("slurmd", check=True)
        deadline = time.monotonic() + 60
        while "idle" not in sh("sinfo", "-h", "-o", "%T").stdout:
            assert time.monotonic() < deadline, (
                sh("sinfo").stdout + (base / "slurmctld.log").read_text()
            )
            time.sleep(1)
        yield base
    finally:
        sh("scancel", "--user=root")
        for pidfile in (base / "slurmd.pid", base / "slurmctld.pid", munge_dir / "munged.pid"):
            if pidfile.exists():
                sh("kill", pidfile.read_text().strip())
        time.sleep(1)
        CONF.unlink(missing_ok=True)


def test_demo_on_slurm_equals_the_local_run(slurm_cluster, small_demo_run, tmp_path):
    cfg = write_config(tmp_path / "small.yaml", SMALL_DEMO)
    cmd = snakemake_cmd(tmp_path, configfile=cfg)
    cmd = [c for c in cmd if c not in ("--cores", "2")]
    cmd += [
        "--workflow-profile",
        str(REPO / "profiles/slurm"),
        "--slurm-status-command",
        "squeue",
        "--slurm-no-account",
        "--default-resources",
        "slurm_partition=main",
        "mem_mb=1000",
        "runtime=10",
        "--slurm-init-seconds-before-status-checks",
        "1",
    ]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    wall = time.monotonic() - start
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    for name in ("groups.parquet", "pairs.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "results" / name),
            pd.read_parquet(small_demo_run / "results" / name),
        )
    jobs = sh("squeue", "--states=all", "-h", "-o", "%i|%k").stdout.split()
    ours = [line.split("|") for line in jobs]
    shards = {jid for jid, comment in ours if comment.startswith("rule_distances")}
    n_shards = len(list((tmp_path / "results/distances").glob("*.parquet")))
    assert len(shards) == n_shards == 3  # every shard its own SLURM job
    logs = list((tmp_path / ".snakemake/slurm_logs/rule_distances").rglob("*.log"))
    assert len(logs) == n_shards
    print(f"\nSLURM: {len(ours)} jobs submitted, {len(shards)} distance shards, wall {wall:.0f} s")
