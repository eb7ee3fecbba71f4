"""`uptime` on 20 and on 100 loopback sshd hosts: opsh vs Debian's parallel-ssh.

Both use the same ed25519 key, the same fan-out (20) and the same known hosts; every login is
a fresh one (opsh's connection reuse is shown apart, as "warm"). opsh is measured as a user
runs it (`opsh -c 'run ... -- uptime'`, process start included) and in-process (the runner
alone). sshd's share of a login (~110 ms of CPU) is the same for both, so the ratio shows how
much each client adds.

    tests/bench/run fanout
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.bench.common import opsh_bin, report
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


def pssh_runner(
    hosts: SshHosts, addresses: list[str], work: Path, known_hosts: Path, *options: str
) -> Callable[[], None]:
    host_file = work / f"pssh-hosts-{len(addresses)}"
    host_file.write_text("".join(f"{a}:{hosts.port}\n" for a in addresses))
    argv = [
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

    def run() -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)

    return run


def opsh_cli_runner(expression: str, env: dict[str, str]) -> Callable[[], None]:
    argv = [opsh_bin(), "-c", f"run {expression} --fanout {FANOUT} -- uptime"]

    def run() -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)

    return run


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-fanout-"))
    with start_sshd(work / "sshd", count=max(n for n, _ in SIZES)) as hosts:
        files = hosts.write_client(work / "client")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(files.env, OPSH_HOME=str(work / "opsh-home"))
        os.environ.update(files.env)
        os.environ["OPSH_HOME"] = env["OPSH_HOME"]
        for count, repeat in SIZES:
            addresses = hosts.addresses[:count]
            expression = f"127.0.0.[2-{count + 1}]"
            pssh = timed(pssh_runner(hosts, addresses, work, files.known_hosts), repeat)
            # OpenSSH's default key exchange (sntrup761x25519) costs both sides more than the
            # curve25519 that paramiko uses: shown for comparison, the ratio uses the default.
            same_kex = pssh_runner(hosts, addresses, work, files.known_hosts, "-O", "KexAlgorithms=curve25519-sha256")
            pssh_curve = timed(same_kex, repeat) if count <= 20 else None
            cli = timed(opsh_cli_runner(expression, env), repeat)
            inproc, warm = in_process(expression, work, repeat)
            extra = [("parallel-ssh, curve25519 kex", pssh_curve * 1000, "ms")] if pssh_curve else []
            report(
                f"uptime on {count} loopback hosts, fan-out {FANOUT} (median of {repeat})",
                [
                    ("parallel-ssh", pssh * 1000, "ms"),
                    *extra,
                    ("opsh -c 'run ...'", cli * 1000, "ms"),
                    ("opsh runner in-process", inproc * 1000, "ms"),
                    ("opsh runner, warm connections", warm * 1000, "ms"),
                ],
                [
                    (f"opsh -c / parallel-ssh ({count} hosts)", cli / pssh, 0.6),
                    (f"opsh in-process / parallel-ssh ({count} hosts)", inproc / pssh, 0.6),
                ],
            )


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
    main()
