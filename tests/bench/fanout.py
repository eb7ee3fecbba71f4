"""`uptime` on 20 and on 100 loopback sshd hosts: opsh vs Debian's parallel-ssh.

The headline is `opsh -c` (what a user runs: process start included) against parallel-ssh
forced to the key exchange paramiko uses (`-x -oKexAlgorithms=curve25519-sha256`; OpenSSH's
default sntrup761x25519 costs both sides far more and is shown apart). Targets (issue 16):
<= 0.8x at 20 hosts, <= 0.5x at 100; the exit status is 1 when one is missed. The client's
CPU seconds per host are printed for both (parallel-ssh's include its ssh processes).

Both use the same ed25519 key, the same fan-out (20) and the same known hosts; every login is
a fresh one (opsh's connection reuse is shown apart, as "warm"). opsh is measured as a user
runs it (`opsh -c 'run ... -- uptime'`, process start included) and in-process (the runner
alone). The server side of a login (sshd, the login shell, the kernel: the machine's CPU minus
the client's) is printed for both; spread over the cores it is a floor no client goes below.

    tests/bench/run fanout
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.bench.common import machine_cpu, opsh_bin, report
from tests.servers.sshd import SshHosts, start_sshd

FANOUT = 20
SIZES = ((20, 5), (100, 3))  # (hosts, repeats)


def timed(run: Callable[[], None], repeat: int, after: Callable[[], None] = lambda: None) -> float:
    run()
    after()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
        after()
    return statistics.median(samples)


TARGETS = {20: 0.8, 100: 0.5}  # opsh -c / parallel-ssh with curve25519 (issue 16)


def cpu_timed(argv: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds of the process and its children) via wait4."""
    from tests.bench.stream import measured

    measured(argv, env)
    runs = [measured(argv, env) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[2] for r in runs)


def with_server_side(argv: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(median wall, median client CPU, server-side CPU per run): the machine's CPU over the
    runs minus the client's (sshd, the login shells and the kernel's share of both)."""
    before = machine_cpu()
    wall, cpu = cpu_timed(argv, repeat, env)
    return wall, cpu, (machine_cpu() - before) / (repeat + 1) - cpu


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-fanout-"))
    missed = False
    with start_sshd(work / "sshd", count=max(n for n, _ in SIZES)) as hosts:
        files = hosts.write_client(work / "client")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(files.env, OPSH_HOME=str(work / "opsh-home"))
        os.environ.update(files.env)
        os.environ["OPSH_HOME"] = env["OPSH_HOME"]
        for count, repeat in SIZES:
            addresses = hosts.addresses[:count]
            expression = f"127.0.0.[2-{count + 1}]"
            pssh_default, _ = cpu_timed(pssh_argv(hosts, addresses, work, files.known_hosts), repeat)
            # OpenSSH's default key exchange (sntrup761x25519) costs both sides far more than the
            # curve25519 that paramiko uses: the headline compares like with like.
            curve = pssh_argv(hosts, addresses, work, files.known_hosts, "-x", "-oKexAlgorithms=curve25519-sha256")
            pssh, pssh_cpu, pssh_server = with_server_side(curve, repeat)
            cli, cli_cpu, cli_server = with_server_side(opsh_argv(expression), repeat, env)
            floor = cli_server / (os.cpu_count() or 1)  # the server's work alone, on every core
            start_up, _ = cpu_timed([opsh_bin(), "-c", "hosts list 127.0.0.2 --format json"], repeat, env)
            inproc, warm = in_process(expression, work, repeat)
            target = TARGETS[count]
            missed |= cli / pssh > target
            report(
                f"uptime on {count} loopback hosts, fan-out {FANOUT} (median of {repeat})",
                [
                    ("parallel-ssh, curve25519 kex (the reference)", pssh * 1000, "ms"),
                    ("opsh -c 'run ...'", cli * 1000, "ms"),
                    ("parallel-ssh, OpenSSH's default kex", pssh_default * 1000, "ms"),
                    ("opsh -c start-up, host settings read, no login (hosts list)", start_up * 1000, "ms"),
                    ("opsh runner in-process", inproc * 1000, "ms"),
                    ("opsh runner, warm connections", warm * 1000, "ms"),
                    ("client CPU per host: parallel-ssh + its ssh processes", pssh_cpu / count * 1000, "ms"),
                    ("client CPU per host: opsh -c", cli_cpu / count * 1000, "ms"),
                    ("server-side CPU per login (machine minus client), parallel-ssh's", pssh_server / count * 1000, "ms"),
                    ("server-side CPU per login (machine minus client), opsh's", cli_server / count * 1000, "ms"),
                    (f"floor: the server side of opsh's logins alone on {os.cpu_count()} cores", floor * 1000, "ms"),
                ],
                [
                    (f"opsh -c / parallel-ssh curve25519 ({count} hosts)", cli / pssh, target),
                    ("the floor / parallel-ssh (no client can go below it)", floor / pssh, None),
                ],
            )
    return 1 if missed else 0


def pssh_argv(hosts: SshHosts, addresses: list[str], work: Path, known_hosts: Path, *options: str) -> list[str]:
    host_file = work / f"pssh-hosts-{len(addresses)}"
    host_file.write_text("".join(f"{a}:{hosts.port}\n" for a in addresses))
    return [
        "parallel-ssh",
        "-p", str(FANOUT),
        "-t", "60",
        "-h", str(host_file),
        "-l", hosts.user,
        "-x", f"-i {hosts.key}",
        "-O", "StrictHostKeyChecking=no",
        "-O", f"UserKnownHostsFile={known_hosts}",
        "-O", "BatchMode=yes",
        "-O", "IdentitiesOnly=yes",
        *options,
        "uptime",
    ]  # fmt: skip


def opsh_argv(expression: str) -> list[str]:
    return [opsh_bin(), "-c", f"run {expression} --fanout {FANOUT} -- uptime"]


def in_process(expression: str, work: Path, repeat: int) -> tuple[float, float]:
    """(fresh logins, reused connections) for the runner inside one opsh session."""
    from opsh.commands.ssh.state import ssh_state
    from tests.helpers import Shell

    shell = Shell(work / "inproc", history=False)
    shell.engine.out = io.StringIO()
    line = f"run {expression} --fanout {FANOUT} -- uptime"

    def run() -> None:
        outcome = shell(line)
        if not outcome.ok:
            raise SystemExit(f"opsh run failed: {outcome.err or outcome.text[-500:]}")

    try:
        fresh = timed(run, repeat, after=lambda: ssh_state(shell.session).pool.close_all())
        warm = timed(run, repeat)
    finally:
        shell.close()
    return fresh, warm


if __name__ == "__main__":
    sys.exit(main())
