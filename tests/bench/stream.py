"""Streamed `run` output against the tools it replaces, in the same run on the same hosts.

    20 hosts x `seq 100000` to /dev/null   opsh -c 'run ...'  vs  parallel-ssh -i
    1 host x `seq 1000000` to /dev/null    opsh -c 'run ...'  vs  plain ssh

Both sides print every line (parallel-ssh -i prints each host's output after it ends, opsh
streams it with `host | ` prefixes). Every figure is a median of REPEAT runs; opsh's peak RSS
(of the process itself, from wait4) is the largest of its runs. A last row shows the
backpressure: the 20-host run piped into a reader that waits two seconds before reading, so
the hosts must wait for it while opsh's memory stays flat.

Targets (issue 14): 20 x 100k at most 1.5x parallel-ssh's time with peak RSS under 100 MB;
1 x 1M at most 3x plain ssh. The exit status is 1 when a target is missed.

    tests/bench/run stream
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.common import opsh_bin, report
from tests.servers.sshd import SshHosts, start_sshd

REPEAT = 5
HOSTS = 20
LINES_MANY = 100_000
LINES_ONE = 1_000_000
TARGET_MANY = 1.5
TARGET_ONE = 3.0
TARGET_RSS_MB = 100


def measured(
    argv: list[str], env: dict[str, str] | None = None, stdout: object = subprocess.DEVNULL, shell: bool = False
) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MB, CPU seconds) of one process, from wait4 (only its own)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=stdout, stderr=subprocess.DEVNULL, shell=shell)  # type: ignore[call-overload]
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:3]}... exited {proc.returncode}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def medians(argv: list[str], env: dict[str, str] | None = None, shell: bool = False) -> tuple[float, float, float]:
    measured(argv, env, shell=shell)  # warm-up: page cache, sshd's first logins
    runs = [measured(argv, env, shell=shell) for _ in range(REPEAT)]
    return (
        statistics.median(r[0] for r in runs),
        max(r[1] for r in runs),
        statistics.median(r[2] for r in runs),
    )


def ssh_options(hosts: SshHosts, known_hosts: Path) -> list[str]:
    return [
        "-i", str(hosts.key),
        "-o", "BatchMode=yes",
        "-o", "IdentitiesOnly=yes",
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "StrictHostKeyChecking=yes",
        "-l", hosts.user,
    ]  # fmt: skip


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-stream-"))
    with start_sshd(work / "sshd", count=HOSTS) as hosts:
        files = hosts.write_client(work / "client")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(files.env, OPSH_HOME=str(work / "opsh-home"), NO_COLOR="1")
        host_file = work / "pssh-hosts"
        host_file.write_text("".join(f"{a}:{hosts.port}\n" for a in hosts.addresses))
        options = ssh_options(hosts, files.known_hosts)
        many = f"run 127.0.0.[2-{HOSTS + 1}] -- seq {LINES_MANY}"
        pssh_argv = ["parallel-ssh", "-i", "-p", str(HOSTS), "-t", "120", "-h", str(host_file),
                     "-l", hosts.user, "-x", " ".join(options), f"seq {LINES_MANY}"]  # fmt: skip
        pssh = medians(pssh_argv)
        opsh_many = medians([opsh_bin(), "-c", many], env)
        slow_reader = f"{opsh_bin()} -c '{many}' | (sleep 2; cat > /dev/null)"
        start = time.perf_counter()
        _, slow_rss, _ = measured(["bash", "-c", f"exec {slow_reader}"], env)
        slow_seconds = time.perf_counter() - start
        ssh = medians(["ssh", *options, "-p", str(hosts.port), hosts.addresses[0], f"seq {LINES_ONE}"])
        opsh_one = medians([opsh_bin(), "-c", f"run {hosts.addresses[0]} -- seq {LINES_ONE}"], env)
    rows = [
        (f"parallel-ssh -i, {HOSTS} x {LINES_MANY} lines", pssh[0] * 1000, "ms"),
        (f"opsh -c 'run', {HOSTS} x {LINES_MANY} lines", opsh_many[0] * 1000, "ms"),
        ("  opsh peak RSS", opsh_many[1], "MB"),
        ("  opsh CPU seconds", opsh_many[2], "s"),
        ("  parallel-ssh CPU seconds (with its ssh processes)", pssh[2], "s"),
        ("  opsh into a reader that waits 2 s: wall", slow_seconds * 1000, "ms"),
        ("  opsh into a reader that waits 2 s: peak RSS", slow_rss, "MB"),
        (f"ssh, 1 x {LINES_ONE} lines", ssh[0] * 1000, "ms"),
        (f"opsh -c 'run', 1 x {LINES_ONE} lines", opsh_one[0] * 1000, "ms"),
        ("  opsh peak RSS", opsh_one[1], "MB"),
    ]
    ratios = [
        (f"opsh / parallel-ssh ({HOSTS} x {LINES_MANY})", opsh_many[0] / pssh[0], TARGET_MANY),
        (f"opsh / ssh (1 x {LINES_ONE})", opsh_one[0] / ssh[0], TARGET_ONE),
        (f"opsh peak RSS / {TARGET_RSS_MB} MB ({HOSTS} x {LINES_MANY})", opsh_many[1] / TARGET_RSS_MB, 1.0),
        (f"opsh peak RSS / {TARGET_RSS_MB} MB (slow reader)", slow_rss / TARGET_RSS_MB, 1.0),
    ]
    report(f"streamed run output to /dev/null (medians of {REPEAT}; RSS: the largest)", rows, ratios)
    return 0 if all(ratio <= target for _, ratio, target in ratios) else 1


if __name__ == "__main__":
    sys.exit(main())
