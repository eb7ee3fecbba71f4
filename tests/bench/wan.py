"""Fleets as they really are (issue 28): `uptime` on 50 to 1,000 hosts behind a simulated WAN,
opsh against parallel-ssh and clush.

The WAN is tests/servers/wan.py: every host is a relay address (127.0.9.1 and onward) 20 +-
5 ms away each way, a chunk in 200 held 200-400 ms more; 5% of the hosts refuse connections,
2% accept and never answer, 1% answer 2 s late. Behind the relays, one sshd per 16 hosts.

1. The default fan-out, chosen here: `opsh -c 'run ... --fanout F'` on 500 hosts for each
   candidate F; the fastest is printed with those within 5% of it. A default more than 10%
   slower than the fastest is a miss.
2. Fresh logins at 50, 200, 500 and 1,000 hosts (the silent hosts left out: they would only
   measure each tool's timeout): wall time, client CPU per host (wait4: the tool and its
   children), peak RSS (the sum over the tool's processes, sampled every 0.2 s; opsh's is
   its own ru_maxrss), peak open fds and threads, for `opsh -c`, parallel-ssh and clush,
   all with the curve25519 key exchange paramiko uses, at the same parallelism (opsh's
   default) and each at its own default. Every tool runs under the default open-files limit
   (soft 1024). Then the growth: time and memory per added host, between sizes.
3. One opsh session running the same command three times (`!date` between them): the second
   and third reuse the kept connections; against parallel-ssh's and clush's second run
   (they log in again).
4. Loss: the whole fleet, faults included, in one session: `run` (json), then `run @failed`.
   Every refused host is reported as refused, every silent one as timed out within the
   timeout, the slow ones succeed, no host is missing or counted twice, @failed is exactly
   the refused and silent hosts, and the rerun connects to nothing else (sshd's logins and
   the relay's per-host connection counts).

The relay's own cost is printed with every section (its CPU, how late chunks left against
their configured delay): it is off the tools' CPU figures (not their child) and its lateness
is part of the network they all see. Targets (exit 1 on a miss): fresh logins at 500 hosts
<= 0.8x parallel-ssh's wall at the same parallelism; the second command of a session <= 0.1x
parallel-ssh's second run (500 and 1,000 hosts); peak RSS <= 250 KB per host above opsh's
idle RSS (1,000 hosts); the 1,000-host session completes under the 1024 open-files limit;
silent hosts cost no more than the timeout; the loss checks.

    tests/bench/run wan           (OPSH_BENCH_REPEAT=1 for a quick look; medians of 3 by default;
                                   OPSH_BENCH_WAN_ONLY=fanout: the fan-out's measurement alone)
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.common import exit_unless, machine_cpu, opsh_bin, report
from tests.servers.wan import Wan, random_faults, start_wan

SIZES = (50, 200, 500, 1000)
REPEAT = int(os.environ.get("OPSH_BENCH_REPEAT", "3"))
CANDIDATES = (20, 32, 64, 128)  # fan-outs tried for opsh's default
CHOOSE_AT = 500
PSSH_DEFAULT = 32  # parallel-ssh -p
CLUSH_DEFAULT = 64  # clush -f (its fanout in clush.conf)
TIMEOUT = 10  # the loss run's --timeout: what a silent host may cost
FILES = 1024  # the usual default soft limit of open files
LIMIT = 300.0  # seconds for one tool's run: a hung tool fails the bench instead of holding it
CURVE = "-oKexAlgorithms=curve25519-sha256"
TARGET_FRESH = 0.8  # opsh -c / parallel-ssh, fresh logins at 500 hosts, same parallelism
TARGET_SECOND = 0.1  # opsh's second run in a session / parallel-ssh's second run
TARGET_RSS_KB = 250  # per host above idle, at 1,000 hosts


@dataclass
class Figures:
    wall: float
    cpu: float  # seconds, the tool and its children
    rss_kb: float  # peak: the sum over its processes (sampled), or its own ru_maxrss if higher
    fds: int
    threads: int
    out: str
    server: float = 0.0  # CPU seconds of everything else: the machine's minus the tool's and the relay's


class Sampler(threading.Thread):
    """Peak RSS, open fds and threads of a process tree, read from /proc every 0.2 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.stopping = threading.Event()
        self.rss_kb = 0
        self.fds = 0
        self.threads = 0

    def run(self) -> None:
        while not self.stopping.wait(0.2):
            rss = fds = threads = 0
            for pid in tree(self.pid):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    fds += len(os.listdir(f"/proc/{pid}/fd"))
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                rss += int(fields.get("VmRSS", "0 kB").split()[0])
                threads += int(fields.get("Threads", "0"))
            self.rss_kb = max(self.rss_kb, rss)
            self.fds = max(self.fds, fds)
            self.threads = max(self.threads, threads)


def tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                todo += [int(c) for c in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return found


def default_files() -> None:
    """In the child before exec: the soft open-files limit most systems start with."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(FILES, hard), hard))


def measured(argv: list[str], env: dict[str, str] | None = None) -> Figures:
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=default_files)
        sampler = Sampler(proc.pid)
        sampler.start()
        deadline = start + LIMIT
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                raise SystemExit(f"{argv[0]} took more than {LIMIT:g}s")
            time.sleep(0.01)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stopping.set()
        sampler.join()
        out.seek(0)
        text = out.read()
    rss = max(sampler.rss_kb, usage.ru_maxrss)  # (ru_maxrss: the largest single process)
    return Figures(wall, usage.ru_utime + usage.ru_stime, rss, sampler.fds, sampler.threads, text)


class Tools:
    """The three tools' command lines against the same hosts, options and known hosts."""

    def __init__(self, wan: Wan, work: Path) -> None:
        self.wan = wan
        self.work = work
        self.files = wan.write_client(work / "client")
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        home = work / "opsh-home"
        home.mkdir(exist_ok=True)
        self.env.update(self.files.env, OPSH_HOME=str(home))

    def opsh(self, hosts: list[str], fanout: int | None) -> list[str]:
        option = f" --fanout {fanout}" if fanout else ""
        return [opsh_bin(), "-c", f"run {self.expression(hosts)}{option} -- uptime"]

    def expression(self, hosts: list[str]) -> str:
        from opsh.commands.shared.nodeset import fold

        return fold(hosts)

    def pssh(self, hosts: list[str], fanout: int | None) -> list[str]:
        host_file = self.work / f"pssh-{len(hosts)}"
        host_file.write_text("".join(f"{a}\n" for a in hosts))
        parallel = ["-p", str(fanout)] if fanout else []
        return [
            "parallel-ssh", *parallel, "-t", "120", "-h", str(host_file),
            "-x", f"-F {self.files.ssh_config}", "-x", CURVE,
            "-O", f"UserKnownHostsFile={self.files.known_hosts}", "-O", "StrictHostKeyChecking=yes",
            "-O", "BatchMode=yes", "-O", "IdentitiesOnly=yes", "uptime",
        ]  # fmt: skip

    def clush(self, hosts: list[str], fanout: int | None) -> list[str]:
        from ClusterShell.NodeSet import NodeSet

        parallel = ["-f", str(fanout)] if fanout else []
        return [
            str(Path(sys.executable).with_name("clush")), "-w", str(NodeSet.fromlist(hosts)), *parallel, "-S",
            "-o", f"-F {self.files.ssh_config} -oUserKnownHostsFile={self.files.known_hosts} "
            f"-oStrictHostKeyChecking=yes -oIdentitiesOnly=yes {CURVE}",
            "uptime",
        ]  # fmt: skip


def answered(tool: str, out: str) -> int:
    """How many hosts printed uptime's line, as each tool shows it."""
    if tool == "parallel-ssh":
        return out.count("[SUCCESS]")
    return sum("load average" in line for line in out.splitlines())


class Bench:
    def __init__(self, wan: Wan, work: Path) -> None:
        self.wan = wan
        self.tools = Tools(wan, work)
        self.work = work
        self.misses: list[str] = []
        self.relay_late: list[float] = []  # p99 lateness of every measured run
        self.relay_cpu: list[float] = []  # the relay's CPU seconds per second of every run

    def timed(self, argv: list[str], env: dict[str, str] | None = None) -> tuple[Figures, dict[str, Any]]:
        """One run, with the relay's own figures over it."""
        self.wan.reset()
        before = self.wan.stats()["cpu"]
        machine = machine_cpu()
        figures = measured(argv, env)
        stats = self.wan.stats()
        relay = stats["cpu"] - before
        figures.server = machine_cpu() - machine - figures.cpu - relay
        self.relay_late.append(stats["late_p99"])
        self.relay_cpu.append(relay / figures.wall)
        return figures, stats

    def medians(self, tool: str, hosts: list[str], fanout: int | None) -> Figures:
        argv = getattr(self.tools, tool.replace("parallel-ssh", "pssh"))(hosts, fanout)
        env = self.tools.env if tool == "opsh" else None
        runs = []
        for _ in range(REPEAT):
            figures, _ = self.timed(argv, env)
            runs.append(figures)
            want = len([h for h in hosts if h in set(self.wan.answering)])
            got = answered(tool, figures.out)
            if got != want:
                self.misses.append(f"{tool} at {len(hosts)} hosts: {got} of {want} answering hosts printed uptime")
                print(f"  ! {tool}: {got} of {want} hosts answered; its output ends:\n{figures.out[-600:]}")
        return Figures(
            statistics.median(r.wall for r in runs),
            statistics.median(r.cpu for r in runs),
            max(r.rss_kb for r in runs),
            max(r.fds for r in runs),
            max(r.threads for r in runs),
            "",
            statistics.median(r.server for r in runs),
        )

    def hosts(self, count: int) -> list[str]:
        """The first `count` hosts, the silent ones left out (they measure only a timeout)."""
        silent = set(self.wan.of("silent"))
        return [a for a in self.wan.addresses[:count] if a not in silent]

    def relay_line(self, what: str) -> None:
        late = max(self.relay_late or [0.0])
        cpu = max(self.relay_cpu or [0.0])
        print(
            f"  relay ({len(self.wan.relays)} processes) over {what}: chunks left at most {late * 1000:.1f} ms "
            f"late (p99 of a run, against 20 +- 5 ms configured); its CPU at most {cpu:.2f} s per second of a run"
        )
        self.relay_late, self.relay_cpu = [], []


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def idle_rss(tools: Tools) -> float:
    """KB: opsh with nothing to do (`opsh -c pwd`)."""
    return statistics.median(measured([opsh_bin(), "-c", "pwd"], tools.env).rss_kb for _ in range(3))


def choose_fanout(bench: Bench) -> tuple[int, int]:
    """(the measured best fan-out, the current default), with a miss when the default is slow."""
    from opsh.shell.session import CORE_SETTINGS

    default = next(int(s.default) for s in CORE_SETTINGS if s.name == "fanout")
    hosts = bench.hosts(CHOOSE_AT)
    walls = {f: bench.medians("opsh", hosts, f).wall for f in CANDIDATES}
    best = min(walls.values())
    chosen = min(walls, key=lambda f: walls[f])
    plateau = [f for f, wall in walls.items() if wall <= best * 1.05]
    rows = [(f"opsh -c, --fanout {f}", wall, "s") for f, wall in walls.items()]
    report(f"the fan-out, on {len(hosts)} hosts, fresh logins (median of {REPEAT}; {load()})", rows, [])
    print(f"  fastest: {chosen}; within 5% of it: {plateau}; the default is {default}")
    bench.relay_line("these runs")
    if default in walls and walls[default] > best * 1.10:
        bench.misses.append(f"the default fanout {default} is >10% slower than {chosen}")
    return chosen, default


def fresh(bench: Bench, fanout: int) -> dict[int, dict[str, Figures]]:
    """Every size: the three tools at `fanout`, then each at its own default."""
    table: dict[int, dict[str, Figures]] = {}
    for size in SIZES:
        hosts = bench.hosts(size)
        row: dict[str, Figures] = {}
        for tool in ("opsh", "parallel-ssh", "clush"):
            row[tool] = bench.medians(tool, hosts, fanout)
        defaults = {"opsh": fanout, "parallel-ssh": PSSH_DEFAULT, "clush": CLUSH_DEFAULT}
        for tool, own in defaults.items():
            row[f"{tool} (its default)"] = row[tool] if own == fanout else bench.medians(tool, hosts, None)
        table[size] = row
        rows: list[tuple[str, float, str]] = []
        for name, f in row.items():
            rows += [
                (f"{name}: wall", f.wall, "s"),
                (f"{name}: client CPU per host", f.cpu / len(hosts) * 1000, "ms"),
                (f"{name}: peak RSS / open fds / threads", f.rss_kb / 1024, f"MB / {f.fds} / {f.threads}"),
                (f"{name}: server side per login (sshd, shells, kernel)", f.server / len(hosts) * 1000, "ms"),
            ]
        floor = min(f.server for f in row.values()) / (os.cpu_count() or 1)
        rows.append((f"floor: the server side of the logins alone on {os.cpu_count()} cores", floor, "s"))
        ratios: list[tuple[str, float, float | None]] = [
            (f"opsh -c / parallel-ssh wall, both at {fanout}", row["opsh"].wall / row["parallel-ssh"].wall,
             TARGET_FRESH if size == CHOOSE_AT else None),
            (f"opsh -c / clush wall, both at {fanout}", row["opsh"].wall / row["clush"].wall, None),
            ("opsh -c / parallel-ssh wall, each at its default",
             row["opsh (its default)"].wall / row["parallel-ssh (its default)"].wall, None),
            ("opsh -c / clush wall, each at its default",
             row["opsh (its default)"].wall / row["clush (its default)"].wall, None),
            ("the floor / parallel-ssh wall (no client goes below it here)", floor / row["parallel-ssh"].wall, None),
        ]  # fmt: skip
        title = f"uptime on {len(hosts)} hosts ({size} less the silent), fresh logins, median of {REPEAT}; {load()}"
        if not report(title, rows, ratios):
            bench.misses.append(f"fresh logins at {size} hosts")
        bench.relay_line("these runs")
    return table


def growth(table: dict[int, dict[str, Figures]], idle_kb: float) -> bool:
    """Time and memory per added host between sizes, for each tool at the same fan-out."""
    print("\ngrowth per added host (same fan-out): wall ms / peak RSS KB")
    tools = ("opsh", "parallel-ssh", "clush")
    print("  hosts        " + "".join(f"{t:>26}" for t in tools))
    sizes = sorted(table)
    for low, high in zip(sizes, sizes[1:], strict=False):
        cells = []
        for tool in tools:
            a, b = table[low][tool], table[high][tool]
            added = high - low
            cells.append(f"{(b.wall - a.wall) / added * 1000:8.1f} ms {(b.rss_kb - a.rss_kb) / added:8.1f} KB")
        print(f"  {low:>4} -> {high:<5}" + "".join(f"{c:>26}" for c in cells))
    top = max(table)
    per_host = (table[top]["opsh"].rss_kb - idle_kb) / top
    return report(
        f"opsh's memory (idle: {idle_kb / 1024:.1f} MB, `opsh -c pwd`)",
        [(f"peak RSS per host above idle at {top} hosts", per_host, "KB")],
        [(f"per-host RSS at {top} hosts / {TARGET_RSS_KB} KB", per_host / TARGET_RSS_KB, 1.0)],
    )


# Between the runs of a session: the time, the machine's CPU and opsh's own (opsh is the
# parent of the shell that `!` starts), on one line.
MARK = "!echo MARK $(date +%s.%N) $(head -1 /proc/stat) $(cut -d' ' -f14,15 /proc/$PPID/stat)"


@dataclass
class Mark:
    at: float
    machine: float  # CPU seconds of the whole machine so far
    opsh: float  # CPU seconds of opsh so far


def session_script(hosts_expr: str, runs: int, extra: str = "") -> str:
    lines = [MARK]
    for _ in range(runs):
        lines += [f"run {hosts_expr}{extra} -- uptime", MARK]
    return "\n".join(lines) + "\n"


def marks(out: str) -> list[Mark]:
    tick = os.sysconf("SC_CLK_TCK")
    found = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 15 and fields[0] == "MARK" and fields[2] == "cpu":
            machine = sum(int(f) for f in fields[3:6]) / tick
            found.append(Mark(float(fields[1]), machine, (int(fields[13]) + int(fields[14])) / tick))
    return found


def sessions(bench: Bench, table: dict[int, dict[str, Figures]]) -> None:
    """Three runs in one opsh session at every size, against the others' second run."""
    for size in SIZES:
        hosts = bench.hosts(size)
        script = bench.work / f"session-{size}.opsh"
        script.write_text(session_script(bench.tools.expression(hosts), 3))
        firsts, seconds, thirds, floors, cpus, logged = [], [], [], [], [], []
        for _ in range(REPEAT):
            logins = bench.wan.logins()
            figures, _ = bench.timed([opsh_bin(), "--keep-going", str(script)], bench.tools.env)
            found = marks(figures.out)
            new_logins = bench.wan.logins() - logins
            want = len([h for h in hosts if h in set(bench.wan.answering)])
            got = answered("opsh", figures.out)
            if len(found) != 4 or got != 3 * want:
                bench.misses.append(f"the {size}-host session: {got} of {3 * want} host runs answered")
                print(f"  ! session at {size}: {got} of {3 * want} answered; output ends:\n{figures.out[-800:]}")
                continue
            logged.append(new_logins)
            if new_logins != want:
                bench.misses.append(f"the {size}-host session logged in {new_logins} times for {want} hosts")
            firsts.append(found[1].at - found[0].at)
            seconds.append(found[2].at - found[1].at)
            thirds.append(found[3].at - found[2].at)
            second_cpu = found[2].opsh - found[1].opsh
            cpus.append(second_cpu)
            # The second run's commands on the servers and the relay: the machine's CPU less opsh's.
            floors.append((found[2].machine - found[1].machine - second_cpu) / (os.cpu_count() or 1))
        if not seconds:
            continue
        pssh = table[size]["parallel-ssh"].wall
        clush = table[size]["clush"].wall
        second = statistics.median(seconds)
        floor = statistics.median(floors)
        target = TARGET_SECOND if size >= CHOOSE_AT else None
        met = report(
            f"one opsh session, {len(hosts)} hosts, the same `run` three times under {FILES} open files "
            f"(median of {REPEAT}); {load()}",
            [
                ("opsh: first run (fresh logins)", statistics.median(firsts), "s"),
                ("opsh: second run (kept connections)", second, "s"),
                ("opsh: third run", statistics.median(thirds), "s"),
                ("opsh: its CPU in the second run, per host", statistics.median(cpus) / len(hosts) * 1000, "ms"),
                (
                    f"floor: the second run's commands on the servers and the relay, alone on {os.cpu_count()} cores",
                    floor,
                    "s",
                ),
                ("parallel-ssh: second run (it logs in again)", pssh, "s"),
                ("clush: second run (it logs in again)", clush, "s"),
            ],
            [
                ("opsh's second run / parallel-ssh's", second / pssh, target),
                ("opsh's second run / clush's", second / clush, None),
                ("the floor / parallel-ssh's second run (no client goes below it here)", floor / pssh, None),
            ],
        )
        whole = "every answering host answered all three runs" if len(logged) == REPEAT else "SOME FAILED"
        print(
            f"  {whole}; logins per session: "
            f"{', '.join(map(str, logged))} for {len(hosts)} hosts ({len(hosts) - want} refuse connections)"
        )
        if not met:
            bench.misses.append(f"the second run at {size} hosts")
        bench.relay_line("these sessions")


def loss(bench: Bench) -> None:
    """The whole fleet, faults and all: what `run` reports, @failed, and a rerun on it."""
    wan = bench.wan
    everything = bench.tools.expression(wan.addresses)
    script = bench.work / "loss.opsh"
    script.write_text(
        f"run {everything} --timeout {TIMEOUT} --format json -- uptime\n"
        "!date +%s.%N\n"
        f"run @failed --timeout {TIMEOUT} --format json -- uptime\n"
    )
    figures, _ = bench.timed([opsh_bin(), "--keep-going", str(script)], bench.tools.env)
    decoder = json.JSONDecoder()
    text, pos, documents = figures.out, 0, []
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        try:
            document, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            pos = text.find("\n", pos) + 1 or len(text)
            continue
        documents.append(document)
    runs = [d for d in documents if isinstance(d, list)]
    if len(runs) != 2:
        bench.misses.append("the loss run did not give two JSON results")
        print(f"  ! loss: output ends:\n{figures.out[-1500:]}")
        return
    first, rerun = runs
    refused, silent, slow = set(wan.of("refuse")), set(wan.of("silent")), set(wan.of("slow"))
    hosts = [r["host"] for r in first]
    failed = {r["host"] for r in first if r["error"] or r["exit"] != 0}
    checks = [
        ("every host once", sorted(hosts) == sorted(wan.addresses)),
        ("failed = refused + silent", failed == refused | silent),
        (
            "refused ones say so",
            all("refused" in (r["error"] or "") for r in first if r["host"] in refused),
        ),
        (
            f"silent ones time out within --timeout {TIMEOUT}",
            all(
                "timed out" in (r["error"] or "") and r["seconds"] <= TIMEOUT + 1 for r in first if r["host"] in silent
            ),
        ),
        ("slow ones succeed", all(r["exit"] == 0 and r["error"] is None for r in first if r["host"] in slow)),
        ("the rerun is @failed exactly", sorted(r["host"] for r in rerun) == sorted(failed)),
    ]
    reached, rerun_touched, rerun_logins = rerun_touches(bench, everything)
    checks += [
        ("every host but the refusing ones was connected to (relay counts)", reached == set(wan.addresses) - refused),
        (
            "the rerun on @failed connects to those hosts only, logs in nowhere",
            rerun_touched <= failed and not rerun_logins,
        ),
    ]
    silent_seconds = max((r["seconds"] for r in first if r["host"] in silent), default=0.0)
    slow_seconds = max((r["seconds"] for r in first if r["host"] in slow), default=0.0)
    print(
        f"\nloss: {len(wan.addresses)} hosts, {len(refused)} refusing, {len(silent)} silent, {len(slow)} slow; "
        f"--timeout {TIMEOUT}; {load()}"
    )
    print(f"  the whole run and the rerun on @failed: {figures.wall:.2f} s (opsh, one session)")
    print(f"  slowest silent host: {silent_seconds:.2f} s; slowest slow host: {slow_seconds:.2f} s")
    for what, ok in checks:
        print(f"  {'ok  ' if ok else 'MISS'} {what}")
        if not ok:
            bench.misses.append(f"loss: {what}")
    bench.relay_line("the loss runs")


def by(results: list[dict[str, Any]], hosts: set[str]) -> list[dict[str, Any]]:
    return [r for r in results if r["host"] in hosts]


def rerun_touches(bench: Bench, everything: str) -> tuple[set[str], set[str], int]:
    """One session: the whole fleet, a pause, `run @failed`. (Hosts the first run connected
    to, hosts the rerun connected to, sshd logins during the rerun), from the relay's
    per-host connection counts, reset in the pause."""
    wan = bench.wan
    marker = bench.work / "rerun-marker"
    script = bench.work / "touch.opsh"
    script.write_text(
        f"run {everything} --timeout {TIMEOUT} -- uptime\n"
        f"!touch {marker}; while [ -e {marker} ]; do sleep 0.05; done\n"
        f"run @failed --timeout 3 -- uptime\n"
    )
    wan.reset()
    proc = subprocess.Popen(
        [opsh_bin(), "--keep-going", str(script)],
        env=bench.tools.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=default_files,
    )
    deadline = time.monotonic() + LIMIT
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    reached = set(wan.stats()["accepted"])
    wan.reset()
    logins = wan.logins()
    marker.unlink(missing_ok=True)
    proc.wait(LIMIT)
    return reached, set(wan.stats()["accepted"]), wan.logins() - logins


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-wan-"))
    count = max(SIZES)
    faults = random_faults(count)
    print(f"setting up {count} simulated hosts (one sshd per 16, relays); {load()}")
    with start_wan(work / "wan", count, faults) as wan:
        bench = Bench(wan, work)
        print(
            f"  {len(wan.of('refuse'))} refuse, {len(wan.of('silent'))} silent, {len(wan.of('slow'))} slow; "
            f"{len(wan.relays)} relay processes; sshd daemons: {len(wan.hosts.daemons)}"
        )
        idle_kb = idle_rss(bench.tools)
        chosen, default = choose_fanout(bench)
        if os.environ.get("OPSH_BENCH_WAN_ONLY") == "fanout":
            return 0
        table = fresh(bench, default)
        if not growth(table, idle_kb):
            bench.misses.append("memory per host")
        sessions(bench, table)
        loss(bench)
    if bench.misses:
        print("\nmisses:\n  " + "\n  ".join(bench.misses))
    exit_unless(not bench.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
