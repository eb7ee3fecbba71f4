"""`uptime` on 200 loopback hosts: opsh vs parallel-ssh vs clush, direct and through a gateway.

Direct (200 addresses 127.0.0.2-201, 13 sshd daemons, fan-out 20 for every tool, fresh logins
every time): `opsh -c 'run ... -- uptime'` against Debian's parallel-ssh and ClusterShell's
clush, all three forced to the curve25519 key exchange paramiko uses (parallel-ssh and clush
with `-oKexAlgorithms=curve25519-sha256`: OpenSSH's default sntrup761x25519 costs both sides
far more, and would flatter opsh). Targets (issue 18): opsh's wall time <= 0.35x parallel-ssh's,
and opsh's client CPU per host no more than clush's (clush's and parallel-ssh's include their
ssh processes; opsh has none). sshd's CPU per login is printed too: it is the same work
whichever client logs in, and on 2 cores it alone sets a floor under every tool's wall time.

Through one gateway (tests/servers/gateway.py: a gateway sshd whose `python3` runs ClusterShell
from its virtualenv, the same 200 hosts as its leaves): `opsh -c 'run @leaves --via gw'`
against `clush` in tree mode with the same topology; the head's CPU per host and the gateway
host's (ClusterShell's gateway and its ssh processes) are printed. No target: the figures say
what going through a gateway costs here.

Host ranges: opsh's parser (nodeset.expand / fold) against ClusterShell's NodeSet on the cases
tests/unit/test_gateways.py checks they agree on, and on large ranges. opsh keeps its own parser
(the default install has no ClusterShell); the verdict line says whether NodeSet would be faster.

The exit status is 1 when a target is missed. Every process has a time limit.

    tests/bench/run fleet
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.bench.common import exit_unless, machine_cpu, opsh_bin, report
from tests.servers.gateway import Fleet, start_fleet
from tests.servers.sshd import SshHosts, start_sshd

HOSTS = 200
FANOUT = 20
REPEAT = 3
LIMIT = 120.0  # seconds for one tool's run: a hung tool fails the bench instead of holding it
CURVE = "-oKexAlgorithms=curve25519-sha256"
TARGET_WALL = 0.35  # opsh -c / parallel-ssh, direct, 200 hosts
TARGET_CPU = 1.0  # opsh's client CPU per host / clush's
RANGES = [
    "web1", "web[01-03]", "web[8-11]", "db[1,3,5-7]", "r[1-2]n[1-2].lan", "10.0.0.[9-11]",
    "node[001-100]", "web[01-20]", "x[0-9]", "a[1-3]b", "host-[1-2]-a", "127.0.1.[2-21]",
    "n[09-11]", "rack[1-2]-node[01-02]", "db[7]", "web[1-3,5,7-9]", "s[0-2]x[0-1]y[0-1]",
    "leaf[01-20]", "name.example.com", "c[1-3].d[4-5]", "web[001-010]", "gpu[1-4]-ib",
]  # fmt: skip


def measured(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and the children it waited for), via wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = start + LIMIT
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            raise SystemExit(f"{argv[0]} took more than {LIMIT:g}s")
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        assert proc.stderr is not None
        raise SystemExit(f"{argv[:3]}... exited {code}: {proc.stderr.read().decode(errors='replace')[-400:]}")
    return seconds, usage.ru_utime + usage.ru_stime


def medians(
    argv: list[str], env: dict[str, str] | None = None, after: Callable[[], None] = lambda: None
) -> tuple[float, float]:
    measured(argv, env)  # warm-up: page cache, sshd's first logins
    after()
    runs = []
    for _ in range(REPEAT):
        runs.append(measured(argv, env))
        after()
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def clush_bin() -> str:
    return str(Path(sys.executable).with_name("clush"))


def direct(hosts: SshHosts, work: Path, env: dict[str, str], known: Path) -> bool:
    addresses = hosts.addresses
    host_file = work / "pssh-hosts"
    host_file.write_text("".join(f"{a}:{hosts.port}\n" for a in addresses))
    pssh = [
        "parallel-ssh", "-p", str(FANOUT), "-t", "60", "-h", str(host_file), "-l", hosts.user,
        "-x", f"-i {hosts.key}", "-x", CURVE,
        "-O", "StrictHostKeyChecking=yes", "-O", f"UserKnownHostsFile={known}", "-O", "BatchMode=yes",
        "-O", "IdentitiesOnly=yes", "uptime",
    ]  # fmt: skip
    from ClusterShell.NodeSet import NodeSet

    clush = [
        clush_bin(), "-w", str(NodeSet.fromlist(addresses)), "-f", str(FANOUT), "-l", hosts.user, "-b", "-S",
        "-o", f"-p {hosts.port} -i {hosts.key} -oIdentitiesOnly=yes -oUserKnownHostsFile={known} "
        f"-oStrictHostKeyChecking=yes {CURVE}",
        "uptime",
    ]  # fmt: skip
    opsh = [opsh_bin(), "-c", f"run 127.0.0.[2-{HOSTS + 1}] --fanout {FANOUT} -- uptime"]
    figures: dict[str, tuple[float, float, float]] = {}
    for name, argv, tool_env in (("parallel-ssh", pssh, None), ("clush", clush, None), ("opsh", opsh, env)):
        before = machine_cpu()
        wall, cpu = medians(argv, tool_env)
        runs = REPEAT + 1
        # The server side of a login: the machine's CPU minus the client's (see machine_cpu).
        figures[name] = (wall, cpu / HOSTS, ((machine_cpu() - before) / runs - cpu) / HOSTS)
    floor = min(f[2] for f in figures.values()) * HOSTS / (os.cpu_count() or 1)
    wall_ratio = figures["opsh"][0] / figures["parallel-ssh"][0]
    cpu_ratio = figures["opsh"][1] / figures["clush"][1]
    return report(
        f"uptime on {HOSTS} loopback hosts ({len(hosts.daemons)} sshd daemons), fan-out {FANOUT}, fresh logins, "
        f"curve25519 key exchange for all (median of {REPEAT})",
        [
            (
                "wall: parallel-ssh -x -oKexAlgorithms=curve25519-sha256 (the reference)",
                figures["parallel-ssh"][0],
                "s",
            ),
            ("wall: clush -o -oKexAlgorithms=curve25519-sha256", figures["clush"][0], "s"),
            ("wall: opsh -c 'run ...'", figures["opsh"][0], "s"),
            ("client CPU per host: parallel-ssh + its ssh processes", figures["parallel-ssh"][1] * 1000, "ms"),
            ("client CPU per host: clush + its ssh processes", figures["clush"][1] * 1000, "ms"),
            ("client CPU per host: opsh (no child processes)", figures["opsh"][1] * 1000, "ms"),
            ("server-side CPU per login (machine minus client): parallel-ssh's", figures["parallel-ssh"][2] * 1000, "ms"),
            ("server-side CPU per login (machine minus client): clush's", figures["clush"][2] * 1000, "ms"),
            ("server-side CPU per login (machine minus client): opsh's", figures["opsh"][2] * 1000, "ms"),
            (f"the server side alone for {HOSTS} logins / {os.cpu_count()} cores (a floor for every tool)", floor, "s"),
        ],
        [
            ("opsh -c / parallel-ssh wall time", wall_ratio, TARGET_WALL),
            ("opsh / clush client CPU per host", cpu_ratio, TARGET_CPU),
            ("the floor / parallel-ssh wall time (no client can go below it)", floor / figures["parallel-ssh"][0], None),
        ],
    )


# The gateway's Python, measured: ClusterShell's gateway runs as its child, and its CPU (with
# its ssh processes) is appended to a file when it ends. (The gateway host's sshd does not
# account for it: the session ends, and the gateway is orphaned, as soon as the head hangs up.)
METER = """#!{python}
import os, resource, subprocess, sys
code = subprocess.call([sys.executable, *sys.argv[1:]])
used = resource.getrusage(resource.RUSAGE_CHILDREN)
with open({out!r}, "a") as out:
    out.write(f"{{used.ru_utime + used.ru_stime}}\\n")
sys.exit(code)
"""


def gateway_meter(fleet: Fleet) -> tuple[Path, Path]:
    """(the metered python for the gateway, the file its CPU seconds go to)."""
    from tests.servers.gateway import gateway_venv

    base = fleet.gateway_ssh_config.parent.parent  # readable for the test user
    out = base / "log" / "gateway-cpu"
    meter = base / "metered-python3"
    meter.write_text(METER.format(python=gateway_venv() / "bin" / "python3", out=str(out)))
    meter.chmod(0o755)
    return meter, out


def gateway_seconds(out: Path) -> float:
    return sum(float(line) for line in out.read_text().split()) if out.exists() else 0.0


def through_gateway(fleet: Fleet, work: Path, env: dict[str, str]) -> None:
    """opsh --via and clush's tree mode through the same gateway to the same leaves."""
    count = len(fleet.leaf_names)
    head_files = fleet.write_client(work / "head")
    meter, meter_out = gateway_meter(fleet)
    home = Path(env["OPSH_HOME"])
    (home / "config.toml").write_text(fleet.config(f'gateway_python = "{meter}"\n'))
    opsh_env = {**env, **head_files.env}
    opsh = [opsh_bin(), "-c", f"run @leaves --via gw --fanout {FANOUT} -- uptime"]
    # clush reaches the gateway and the gateway its leaves with the same ssh options: one ssh
    # config that names both (every host is this machine, so one file serves both sides).
    both = fleet.gateway_ssh_config.with_name("clush_ssh_config")  # where the test user can read it
    both.write_text(head_files.ssh_config.read_text() + "\n" + fleet.gateway_ssh_config.read_text())
    known = fleet.gateway_ssh_config.with_name("clush_known_hosts")
    known.write_text(head_files.known_hosts.read_text() + fleet.leaves.known_hosts_text())
    for path in (both, known):
        fleet.chown(path)
    topology = work / "topology.conf"
    from ClusterShell.NodeSet import NodeSet

    leaves = str(NodeSet.fromlist(fleet.leaf_names))
    topology.write_text(f"[routes]\n{socket.gethostname().split('.')[0]}: gw\ngw: {leaves}\n")
    clush = [clush_bin(), "--topology", str(topology), "-w", leaves, "-f", str(FANOUT), "-b", "-S",
             "-o", f"-F {both} -oUserKnownHostsFile={known}", "uptime"]  # fmt: skip
    clush_env = {**os.environ, "CLUSTERSHELL_GW_PYTHON_EXECUTABLE": str(meter)}
    rows = []
    for name, argv, tool_env in (("clush --topology", clush, clush_env), ("opsh --via gw", opsh, opsh_env)):
        before = gateway_seconds(meter_out)
        wall, cpu = medians(argv, tool_env)
        time.sleep(0.5)  # the last gateway writes its figure as it ends
        gateway_cpu = (gateway_seconds(meter_out) - before) / (REPEAT + 1)
        rows += [
            (f"wall: {name}", wall, "s"),
            (f"  head CPU per host: {name}", cpu / count * 1000, "ms"),
            (f"  gateway CPU per host (ClusterShell's gateway and its ssh): {name}", gateway_cpu / count * 1000, "ms"),
        ]
    report(f"uptime on {count} hosts through one gateway, fan-out {FANOUT} (median of {REPEAT})", rows, [])


def ranges() -> None:
    from ClusterShell.NodeSet import NodeSet

    from opsh.commands.shared.nodeset import expand, fold

    agree = sum(expand(r) == list(NodeSet(r)) for r in RANGES)

    def per_call(work: Callable[[], object], n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            work()
        return (time.perf_counter() - start) / n * 1e6

    big = "node[00001-50000]"
    names = expand("web[0001-5000]") + expand("db[1-3000]")
    rows = [
        (f"expand the {len(RANGES)} cases: opsh", per_call(lambda: [expand(r) for r in RANGES], 200), "us"),
        (f"expand the {len(RANGES)} cases: NodeSet", per_call(lambda: [list(NodeSet(r)) for r in RANGES], 200), "us"),
        (f"expand {big}: opsh", per_call(lambda: expand(big), 5), "us"),
        (f"expand {big}: NodeSet", per_call(lambda: list(NodeSet(big)), 5), "us"),
        (f"fold {len(names)} names: opsh", per_call(lambda: fold(names), 5), "us"),
        (f"fold {len(names)} names: NodeSet.fromlist", per_call(lambda: str(NodeSet.fromlist(names)), 5), "us"),
    ]
    report(f"host ranges: opsh's parser vs ClusterShell's NodeSet ({agree} of {len(RANGES)} cases agree)", rows, [])
    slower = [rows[i][0].split(":")[0] for i in (0, 2, 4) if rows[i + 1][1] < rows[i][1]]
    verdict = f"NodeSet is faster at: {', '.join(slower)}" if slower else "opsh's parser is faster in every case: kept"
    print(f"  verdict: {verdict}")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-fleet-"))
    ranges()
    with start_sshd(work / "sshd", count=HOSTS) as hosts:
        files = hosts.write_client(work / "client")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        home = work / "opsh-home"
        home.mkdir()
        env.update(files.env, OPSH_HOME=str(home))
        met = direct(hosts, work, env, files.known_hosts)
        with start_fleet(work / "fleet", leaf_hosts=hosts) as fleet:
            through_gateway(fleet, work, env)
    exit_unless(met)
    return 0


if __name__ == "__main__":
    sys.exit(main())
