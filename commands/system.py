"""The local machine: `sys` (overview, disks, memory), `env`, `which`, `ps`.

Everything is read from /proc and the standard library directly (no psutil): the data is a
few small text files away, and an ops shell should start fast and install anywhere.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import re
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsh.shell.errors import OpshError, UsageError, swallowed
from opsh.shell.redact import MASK, redact
from opsh.shell.result import Result, Size
from opsh.shell.session import Session
from opsh.shell.spec import Args, Command, Kind, Param, arg, command, opt

PROC = Path("/proc")
# Filesystems that hold no user data; `sys disks --all` shows them anyway.
PSEUDO_FS = frozenset(
    [
        "proc",
        "sysfs",
        "devtmpfs",
        "tmpfs",
        "devpts",
        "cgroup",
        "cgroup2",
        "mqueue",
        "debugfs",
        "tracefs",
        "securityfs",
        "pstore",
        "bpf",
        "configfs",
        "fusectl",
        "hugetlbfs",
        "autofs",
        "binfmt_misc",
        "nsfs",
        "rpc_pipefs",
        "ramfs",
        "efivarfs",
        "selinuxfs",
        "fuse.lxcfs",
        "squashfs",
    ]
)
_SECRET_NAME = re.compile(r"PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|AUTH|PRIVATE|COOKIE|SESSION|SIGNATURE", re.I)
_NOT_SECRET_NAME = re.compile(r"^(OLD)?PWD$|_(SOCK|FILE|PATH|DIR|HOME|URL_BASE)$|^KEYBOARD|^XKB", re.I)
# Masked whatever else the name says (even DB_TOKEN_PATH): the usual ways secrets are named.
_ALWAYS_SECRET = ("*_PW", "*_PASS*", "*TOKEN*", "*SECRET*")


# ---------------------------------------------------------------- formatting


def span(seconds: float) -> str:
    """`3d 4h 12m` for uptimes."""
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    return f"{days}d {hours}h {minutes}m" if days else f"{hours}h {minutes}m"


# ---------------------------------------------------------------- /proc readers


def meminfo() -> dict[str, int]:
    """/proc/meminfo in bytes."""
    out: dict[str, int] = {}
    for line in (PROC / "meminfo").read_text().splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[name] = int(parts[0]) * (1024 if len(parts) > 1 and parts[1] == "kB" else 1)
    return out


def uptime_seconds() -> float:
    return float((PROC / "uptime").read_text().split()[0])


def boot_time() -> float:
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return time.time() - uptime_seconds()


def cpu_model() -> str:
    import platform  # imported on use: it costs startup time

    try:
        for line in (PROC / "cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.partition(":")[2].strip()
    except OSError:
        swallowed("reading the CPU model from /proc/cpuinfo")
    return platform.processor() or "unknown"


@dataclass(frozen=True)
class Mount:
    device: str
    mountpoint: str
    fstype: str
    options: str


def mounts() -> list[Mount]:
    """Mounted filesystems, the last mount on a path winning (it shadows the earlier ones)."""
    found: dict[str, Mount] = {}
    for line in (PROC / "self" / "mounts").read_text().splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        device, point, fstype, options = (_unescape(p) for p in parts[:4])
        found.pop(point, None)
        found[point] = Mount(device, point, fstype, options)
    return list(found.values())


def _unescape(field: str) -> str:
    """/proc/mounts writes spaces and tabs in paths as octal escapes (\\040)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


@dataclass(frozen=True)
class DiskUsage:
    mount: Mount
    size: int
    used: int
    free: int

    @property
    def percent(self) -> float:
        """As df computes it: used over what a user could fill (root's reserve excluded)."""
        usable = self.used + self.free
        return round(100.0 * self.used / usable, 1) if usable else 0.0


def disk_usage(include_all: bool = False) -> list[DiskUsage]:
    out = []
    for mount in mounts():
        if not include_all and mount.fstype in PSEUDO_FS:
            continue
        try:
            st = os.statvfs(mount.mountpoint)
        except OSError:
            swallowed(f"reading the usage of {mount.mountpoint}")
            continue
        if st.f_blocks == 0 and not include_all:
            continue
        size = st.f_blocks * st.f_frsize
        out.append(DiskUsage(mount, size, (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_bavail * st.f_frsize))
    return out


# ---------------------------------------------------------------- sys


def _os_name() -> str:
    import platform  # imported on use: it costs startup time

    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        swallowed("reading os-release")
        return platform.system()


def _safe(read: Any, default: Any = "unknown") -> Any:
    try:
        return read()
    except (OSError, ValueError, IndexError):
        swallowed("reading a system figure (shown as unknown)")
        return default


def overview() -> dict[str, Any]:
    """Byte counts are `Size`s: read as 1.5G on screen, exact in json."""
    import platform  # imported on use: it costs startup time

    uname = platform.uname()
    doc: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "os": _os_name(),
        "platform": platform.platform(),
        "kernel": f"{uname.system} {uname.release} {uname.version}",
        "arch": uname.machine,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_path": sys.executable,
        "cpus": os.cpu_count() or 0,
    }
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else doc["cpus"]
    if usable != doc["cpus"]:
        doc["cpus_usable"] = usable
    doc["cpu_model"] = cpu_model()
    mem = _safe(meminfo, {})
    if mem:
        total, available = mem.get("MemTotal", 0), mem.get("MemAvailable", mem.get("MemFree", 0))
        used = _percent(total - available, total)
        doc["memory"] = {"total": Size(total), "available": Size(available), "used%": used}
        doc["swap"] = {"total": Size(mem.get("SwapTotal", 0)), "free": Size(mem.get("SwapFree", 0))}
    for disk in _safe(disk_usage, []):
        doc[f"disk {disk.mount.mountpoint}"] = (
            f"{Size(disk.size).human()} total, {Size(disk.used).human()} used ({disk.percent:.0f}%),"
            f" {Size(disk.free).human()} free"
        )
    load = _safe(os.getloadavg, None)
    if load:
        doc["load"] = {"1m": round(load[0], 2), "5m": round(load[1], 2), "15m": round(load[2], 2)}
    up = _safe(uptime_seconds, None)
    if up is not None:
        doc["uptime"] = span(up)
        booted = dt.datetime.fromtimestamp(_safe(boot_time, time.time() - up)).replace(microsecond=0)
        doc["boot_time"] = booted.isoformat(sep=" ")
    return doc


class SysDisks(Command):
    name = "disks"
    summary = "mounted filesystems: size, used, free (like df -h)"
    params = (opt("--all", help="include pseudo filesystems (tmpfs, proc, cgroup...)"),)
    examples = ("sys disks", "sys disks --all", "sys disks --format csv   # exact bytes")

    def run(self, session: Session, args: Args) -> Result:
        rows = [
            [
                d.mount.mountpoint,
                d.mount.device,
                d.mount.fstype,
                Size(d.size),
                Size(d.used),
                Size(d.free),
                d.percent,
            ]
            for d in disk_usage(args.all)
        ]
        return Result.table(["mount", "device", "fstype", "size", "used", "free", "use%"], rows)


class SysMem(Command):
    name = "mem"
    summary = "memory and swap: total, used, free, available (like free -h)"
    examples = ("sys mem", "sys mem --format json   # exact bytes")

    def run(self, session: Session, args: Args) -> Result:
        info = meminfo()
        total, free = info.get("MemTotal", 0), info.get("MemFree", 0)
        available = info.get("MemAvailable", free)
        cache = info.get("Buffers", 0) + info.get("Cached", 0) + info.get("SReclaimable", 0)
        swap, swap_free = info.get("SwapTotal", 0), info.get("SwapFree", 0)
        rows = [
            [
                "mem",
                Size(total),
                Size(total - available),
                Size(free),
                Size(cache),
                Size(available),
                _percent(total - available, total),
            ],
            [
                "swap",
                Size(swap),
                Size(swap - swap_free),
                Size(swap_free),
                None,
                None,
                _percent(swap - swap_free, swap),
            ],
        ]
        return Result.table(["kind", "total", "used", "free", "cache", "available", "use%"], rows)


def _percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


class SysCmd(Command):
    name = "sys"
    area = "system"
    summary = "this machine: OS, kernel, Python, hostname, CPUs, memory, disks, load, uptime"
    usage = "sys [disks|mem]"
    subcommands = (SysDisks, SysMem)
    examples = ("sys", "sys --format json", "sys disks", "sys mem")

    def run(self, session: Session, args: Args) -> Result:
        return Result.doc(overview())


# ---------------------------------------------------------------- env


def looks_secret(name: str) -> bool:
    upper = name.upper()
    if any(fnmatch.fnmatchcase(upper, pattern) for pattern in _ALWAYS_SECRET):
        return True
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


def _name_matcher(pattern: str | None) -> Any:
    if not pattern:
        return lambda name: True
    if any(c in pattern for c in "*?["):
        return lambda name: fnmatch.fnmatchcase(name.upper(), pattern.upper())
    return lambda name: pattern.upper() in name.upper()


@command(
    "env",
    area="system",
    summary="environment variables (values that look secret are masked unless --show)",
    params=(
        arg("pattern", Kind.TEXT, required=False, help="part of the name, or a glob like AWS_*"),
        opt("--show", help="show secret-looking values too"),
    ),
    examples=("env", "env PATH", "env 'LC_*'", "env TOKEN --show", "env --format json"),
)
def env_cmd(session: Session, args: Args) -> Result:
    matches = _name_matcher(args.pattern)
    rows = []
    for name in sorted(os.environ):
        if not matches(name):
            continue
        value = os.environ[name]
        if not args.show:
            value = MASK if looks_secret(name) and value else redact(value)
        rows.append([name, value])
    return Result.table(["name", "value"], rows)


# ---------------------------------------------------------------- which


class WhichCmd(Command):
    name = "which"
    area = "system"
    summary = "where a command comes from: an opsh command, an executable on PATH, or nowhere"
    params = (
        arg("names", Kind.TEXT, multiple=True, metavar="NAME"),
        opt("-a", "--all", help="every match on PATH, not only the first"),
    )
    examples = ("which python3", "which ls ssh", "which -a python3")

    def run(self, session: Session, args: Args) -> Result:
        rows: list[list[Any]] = []
        missing = []
        for name in args.names:
            found = _which(session, name, args.all)
            if not found:
                missing.append(name)
                found = [[name, "not found", None]]
            rows += found
        status = f"not found: {', '.join(missing)}" if missing else ""
        return Result.table(["name", "kind", "path"], rows, status=status, failed=bool(missing))

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[Any] | None:
        if param.name != "names":
            return None
        return [(n, "opsh") for n in session.registry.names() if n.startswith(prefix)] + _executables(prefix)


def _which(session: Session, name: str, every: bool) -> list[list[Any]]:
    rows: list[list[Any]] = []
    cmd = session.registry.find(name)
    if cmd is not None and not cmd.hidden:
        rows.append([name, "opsh command", f"{cmd.__module__.removeprefix('opsh.')} ({cmd.name})"])
    if "/" in name:
        path = session.path(name)
        if path.is_file() and os.access(path, os.X_OK):
            rows.append([name, "executable", str(path)])
        return rows
    for found in _on_path(name):
        rows.append([name, "executable", found])
        if not every:
            break
    return rows


def _on_path(name: str) -> Iterator[str]:
    seen = set()
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if candidate in seen:
            continue
        seen.add(candidate)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            yield candidate


# ---------------------------------------------------------------- ps


@dataclass
class Proc:
    pid: int
    ppid: int
    uid: int
    state: str
    ticks: int  # user + system CPU time in clock ticks
    threads: int
    start_ticks: int  # since boot
    rss: int  # bytes
    command: str


def read_proc(pid: int, page_size: int) -> Proc | None:
    """One process from /proc/PID, or None if it ended meanwhile."""
    base = PROC / str(pid)
    try:
        raw = (base / "stat").read_bytes()
        uid = os.stat(base).st_uid
        cmdline = (base / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        swallowed(f"reading process {pid} (it ended, or is not ours to read)")
        return None
    close = raw.rfind(b")")
    comm = raw[raw.find(b"(") + 1 : close].decode("utf-8", "replace")
    fields = raw[close + 2 :].split()
    args = [a.decode("utf-8", "replace") for a in cmdline.rstrip(b"\0").split(b"\0")] if cmdline else []
    return Proc(
        pid=pid,
        ppid=int(fields[1]),
        uid=uid,
        state=fields[0].decode(),
        ticks=int(fields[11]) + int(fields[12]),
        threads=int(fields[17]),
        start_ticks=int(fields[19]),
        rss=int(fields[21]) * page_size,
        command=" ".join(args) if args else f"[{comm}]",
    )


def all_procs() -> dict[int, Proc]:
    page = os.sysconf("SC_PAGE_SIZE")
    procs = {}
    for entry in os.listdir(PROC):
        if entry.isdigit():
            proc = read_proc(int(entry), page)
            if proc is not None:
                procs[proc.pid] = proc
    return procs


_SORT_KEYS = {
    "pid": (lambda r: r[0], False),
    "cpu": (lambda r: r[4], True),
    "mem": (lambda r: r[6], True),  # rss: mem% is rss rounded
    "rss": (lambda r: r[6], True),
    "start": (lambda r: r[8], True),
    "user": (lambda r: (r[2], r[0]), False),
}


@command(
    "ps",
    area="system",
    summary="processes (from /proc): pid, ppid, user, state, cpu%, mem%, rss, threads, start, command",
    params=(
        arg("pattern", Kind.TEXT, required=False, help="part of the command line (case-insensitive), or a pid"),
        opt("-u", "--user", kind=Kind.TEXT, metavar="USER", help="only this user's processes (name or uid)"),
        opt(
            "-s",
            "--sort",
            kind=Kind.CHOICE,
            choices=tuple(_SORT_KEYS),
            default="pid",
            help="cpu/mem/rss: highest first; start: newest first",
        ),
        opt("-n", "--limit", kind=Kind.INT, metavar="N", help="show at most N processes"),
        opt(
            "-i",
            "--interval",
            kind=Kind.DURATION,
            metavar="TIME",
            help="measure cpu% over this time, like top (default: over each process's lifetime, like ps)",
        ),
    ),
    examples=(
        "ps",
        "ps python",
        "ps --sort mem --limit 10",
        "ps --sort cpu -i 1s -n 5",
        "ps --user root --format csv",
    ),
)
def ps_cmd(session: Session, args: Args) -> Result:
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    if not PROC.is_dir():
        raise OpshError("ps needs /proc (Linux)")
    uid = _uid_of(args.user) if args.user else None
    first = all_procs()
    interval = args.interval
    if interval:
        _wait(interval)
    procs = all_procs() if interval else first
    rows = list(_ps_rows(procs, first if interval else None, interval, args.pattern, uid))
    key, reverse = _SORT_KEYS[args.sort]
    rows.sort(key=key, reverse=reverse)
    total = len(rows)
    if args.limit:
        rows = rows[: args.limit]
    how = f"over {interval:g}s" if interval else "averaged over each process's lifetime"
    shown = f"{len(rows)} of {total}" if len(rows) < total else f"{total}"
    return Result.table(
        ["pid", "ppid", "user", "state", "cpu%", "mem%", "rss", "threads", "start", "command"],
        rows,
        status=f"{shown} process{'es' if total != 1 else ''}; cpu% {how}",
    )


def _wait(seconds: float) -> None:
    """Sleep in short slices so Ctrl-C answers at once."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.1))


def _ps_rows(
    procs: dict[int, Proc],
    before: dict[int, Proc] | None,
    interval: float,
    pattern: str | None,
    uid: int | None,
) -> Iterable[list[Any]]:
    tick = os.sysconf("SC_CLK_TCK")
    up = uptime_seconds()
    booted = boot_time()
    total_mem = meminfo().get("MemTotal", 0) or 1
    users: dict[int, str] = {}
    needle = pattern.lower() if pattern else None
    for proc in procs.values():
        if uid is not None and proc.uid != uid:
            continue
        if needle and needle not in proc.command.lower() and needle != str(proc.pid):
            continue
        if before is not None:
            prior = before.get(proc.pid)
            used = proc.ticks - (prior.ticks if prior and prior.start_ticks == proc.start_ticks else 0)
            cpu = 100.0 * used / tick / interval
        else:
            alive = up - proc.start_ticks / tick
            cpu = 100.0 * proc.ticks / tick / alive if alive > 0 else 0.0
        started = dt.datetime.fromtimestamp(booted + proc.start_ticks / tick).replace(microsecond=0)
        yield [
            proc.pid,
            proc.ppid,
            _user_name(proc.uid, users),
            proc.state,
            round(cpu, 1),
            round(100.0 * proc.rss / total_mem, 1),
            Size(proc.rss),
            proc.threads,
            started,
            proc.command,
        ]


def _user_name(uid: int, cache: dict[int, str]) -> str:
    if uid not in cache:
        import pwd

        try:
            cache[uid] = pwd.getpwuid(uid).pw_name
        except KeyError:
            cache[uid] = str(uid)
    return cache[uid]


def _uid_of(user: str) -> int:
    import pwd

    if user.isdigit():
        return int(user)
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        raise UsageError(f"no such user: {user!r}") from None


def _executables(prefix: str) -> list[tuple[str, str]]:
    """Executables on PATH starting with `prefix` (only once something is typed: PATH is long)."""
    if not prefix:
        return []
    names: set[str] = set()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        try:
            names.update(n for n in os.listdir(directory or ".") if n.startswith(prefix))
        except OSError:
            swallowed(f"listing {directory} from PATH")
            continue
    return [(n, "executable") for n in sorted(names)[:200]]


COMMANDS = (SysCmd, env_cmd, WhichCmd, ps_cmd)
