"""Signals: `signals` (what each one is and does by default) and `kill` (send one, carefully).

Numbers come from the running platform (SIGUSR1 is 10 on Linux x86, 30 on macOS), the default
actions and meanings from signal(7). `kill` asks before it signals pid 1, opsh itself or more
than a few processes at once, and reports each pid's outcome instead of stopping at the first
failure.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from opsh.shell import kinds
from opsh.shell.errors import UsageError
from opsh.shell.result import Result
from opsh.shell.session import Session
from opsh.shell.spec import Args, Command, Kind, Param, arg, command, opt

CONFIRM_ABOVE = 3
UNCATCHABLE = frozenset({"SIGKILL", "SIGSTOP"})

# name: (default action, what it means), after signal(7).
SIGNAL_FACTS: dict[str, tuple[str, str]] = {
    "SIGHUP": ("terminate", "hangup of the terminal or controlling process; daemons reload config"),
    "SIGINT": ("terminate", "interrupt from the keyboard (Ctrl-C)"),
    "SIGQUIT": ("core dump", "quit from the keyboard (Ctrl-\\)"),
    "SIGILL": ("core dump", "illegal instruction"),
    "SIGTRAP": ("core dump", "trace or breakpoint trap"),
    "SIGABRT": ("core dump", "abort(3) was called"),
    "SIGBUS": ("core dump", "bus error: bad memory access"),
    "SIGFPE": ("core dump", "arithmetic error (division by zero...)"),
    "SIGKILL": ("terminate", "kill at once: cannot be caught, blocked or ignored"),
    "SIGUSR1": ("terminate", "user-defined signal 1 (often: reopen logs, dump state)"),
    "SIGSEGV": ("core dump", "invalid memory reference"),
    "SIGUSR2": ("terminate", "user-defined signal 2"),
    "SIGPIPE": ("terminate", "write to a pipe or socket nobody reads"),
    "SIGALRM": ("terminate", "timer set by alarm(2) expired"),
    "SIGTERM": ("terminate", "polite termination request: the process may clean up (kill's default)"),
    "SIGSTKFLT": ("terminate", "coprocessor stack fault (unused)"),
    "SIGCHLD": ("ignore", "a child process stopped or ended"),
    "SIGCONT": ("continue", "continue if stopped"),
    "SIGSTOP": ("stop", "stop (pause) the process: cannot be caught, blocked or ignored"),
    "SIGTSTP": ("stop", "stop typed at the terminal (Ctrl-Z)"),
    "SIGTTIN": ("stop", "background process read from the terminal"),
    "SIGTTOU": ("stop", "background process wrote to the terminal"),
    "SIGURG": ("ignore", "urgent data on a socket"),
    "SIGXCPU": ("core dump", "CPU time limit exceeded"),
    "SIGXFSZ": ("core dump", "file size limit exceeded"),
    "SIGVTALRM": ("terminate", "virtual timer expired"),
    "SIGPROF": ("terminate", "profiling timer expired"),
    "SIGWINCH": ("ignore", "terminal window size changed"),
    "SIGIO": ("terminate", "I/O is possible on a descriptor"),
    "SIGPWR": ("terminate", "power failure"),
    "SIGSYS": ("core dump", "bad system call"),
    "SIGINFO": ("ignore", "status request from the keyboard (Ctrl-T)"),
    "SIGEMT": ("core dump", "emulator trap"),
}
_RT = re.compile(r"^(?:SIG)?RT(MIN|MAX)([+-][0-9]{1,3})?$")
_NUMBER = re.compile(r"^[0-9]{1,9}$")  # ASCII digits of a size int() and the kernel take
PID_MAX_FALLBACK = 4194304  # Linux's largest pid_max


def small_number(word: str) -> int | None:
    """The value of a plain decimal number of sane length, else None: `²` and a 5000-digit
    word are not numbers here (int() would refuse them or take ages)."""
    return int(word) if _NUMBER.match(word) else None


def realtime_signals() -> list[tuple[int, str]]:
    """(number, name) of the real-time signals, named as bash's `kill -l` names them: SIGRTMIN,
    SIGRTMIN+1 ... up to half way, then SIGRTMAX-n ... SIGRTMAX."""
    if not hasattr(signal, "SIGRTMIN"):
        return []
    low, high = int(signal.SIGRTMIN), int(signal.SIGRTMAX)
    middle = (high - low) // 2
    out = []
    for number in range(low, high + 1):
        if number == low:
            name = "SIGRTMIN"
        elif number == high:
            name = "SIGRTMAX"
        elif number - low <= middle:
            name = f"SIGRTMIN+{number - low}"
        else:
            name = f"SIGRTMAX-{high - number}"
        out.append((number, name))
    return out


def _aliases() -> dict[int, list[str]]:
    """Other names for the same number on this platform (SIGIOT for SIGABRT...)."""
    out: dict[int, list[str]] = {}
    for name, member in signal.Signals.__members__.items():
        if name != member.name:
            out.setdefault(int(member), []).append(name)
    return out


def signal_rows() -> list[list[Any]]:
    """Every signal by number, the real-time ones included, as `kill -l` lists them."""
    aliases = _aliases()
    rows = []
    for sig in signal.Signals:
        if sig.name in ("SIGRTMIN", "SIGRTMAX"):
            continue
        action, about = SIGNAL_FACTS.get(sig.name, ("?", signal.strsignal(sig) or ""))
        also = ", ".join(aliases.get(int(sig), []))
        rows.append([sig.name, int(sig), action, sig.name not in UNCATCHABLE, also, about])
    for number, name in realtime_signals():
        about = f"real-time signal {number - int(signal.SIGRTMIN)}: queued, no fixed meaning (for applications)"
        rows.append([name, number, "terminate", True, "", about])
    return sorted(rows, key=lambda row: row[1])


def signal_of(text: str) -> int:
    """A signal number from `TERM`, `SIGTERM`, `-15`, `15`, `0`, `RTMIN+2`, `RTMAX-3`."""
    word = text.strip().lstrip("-").upper()
    if word == "0":
        return 0
    realtime = _RT.match(word)
    if realtime and hasattr(signal, "SIGRTMIN"):
        base = int(signal.SIGRTMIN if realtime.group(1) == "MIN" else signal.SIGRTMAX)
        number = base + int(realtime.group(2) or 0)
        if not int(signal.SIGRTMIN) <= number <= int(signal.SIGRTMAX):
            raise UsageError(f"real-time signal out of range: {text!r}", f"{signal.SIGRTMIN}-{signal.SIGRTMAX} here")
        return number
    plain = small_number(word)
    if plain is not None and plain in signal.valid_signals():
        return plain
    if plain is not None or word.isdigit():
        raise UsageError(f"unknown signal: {_short(text)!r}", "see `signals` for the list")
    return int(kinds.parse_signal(word))


def signal_name(number: int) -> str:
    if number == 0:
        return "signal 0 (check only)"
    for realtime, name in realtime_signals():
        if realtime == number:
            return name
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


@command(
    "signals",
    area="signals",
    summary="signals on this platform: name, number, default action, catchable, meaning",
    params=(arg("pattern", Kind.TEXT, required=False, help="part of a name (usr, term) or a number"),),
    examples=("signals", "signals usr", "signals 9", "signals --format json"),
)
def signals_cmd(session: Session, args: Args) -> Result:
    rows = signal_rows()
    if args.pattern:
        needle = args.pattern.upper()
        number = small_number(needle)
        rows = [r for r in rows if number == r[1] or (number is None and (needle in r[0] or needle in r[4]))]
    return Result.table(["signal", "number", "action", "catchable", "aliases", "meaning"], rows)


def _command_of(pid: int) -> str | None:
    base = Path("/proc") / str(pid)
    try:
        raw = (base / "cmdline").read_bytes()
        if raw:
            return " ".join(a.decode("utf-8", "replace") for a in raw.rstrip(b"\0").split(b"\0"))
        stat = (base / "stat").read_text()
        return f"[{stat[stat.find('(') + 1 : stat.rfind(')')]}]"
    except OSError:
        return None


class KillCmd(Command):
    name = "kill"
    area = "signals"
    summary = "send a signal (default TERM) to processes; asks first for pid 1, opsh itself, or many pids"
    usage = "kill [-SIG | -s SIG] PID... | kill -l [SIG...]"
    params = (
        arg("words", Kind.TEXT, required=False, multiple=True, metavar="[-SIG] PID"),
        opt("-s", "--signal", kind=Kind.SIGNAL, metavar="SIG", help="signal name or number (default TERM)"),
        opt("-l", "--list", help="list signal names and numbers"),
    )
    examples = (
        "kill 12345",
        "kill -9 12345",
        "kill -USR1 12345 12346",
        "kill -s HUP 4242",
        "kill -0 4242                 # is it alive? (sends nothing)",
        "kill -l",
    )
    dash_args = True

    def run(self, session: Session, args: Args) -> Result:
        if args.list:
            return _list_signals(args.words)
        number, pids = _signal_and_pids(args.words, args.signal)
        _confirm(session, number, pids)
        rows = [[pid, signal_name(number), _command_of(pid), _send(pid, number)] for pid in pids]
        failures = sum(1 for r in rows if r[3] not in ("sent", "alive"))
        verb = "checked" if number == 0 else f"sent {signal_name(number)} to"
        status = f"{verb} {len(rows) - failures} of {len(rows)} process{'es' if len(rows) != 1 else ''}"
        return Result.table(["pid", "signal", "command", "result"], rows, status=status, failed=failures > 0)

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[Any] | None:
        """`kill -<Tab>` offers signal names; a number offers pids with their command lines."""
        if param.name == "words":
            return _complete_signal(prefix) if prefix.startswith("-") else _complete_pid(prefix)
        return None


def _list_signals(words: list[str]) -> Result:
    if words:
        return Result.table(["number", "signal"], [[n, signal_name(n)] for n in map(signal_of, words)])
    return Result.table(["number", "signal"], [[r[1], r[0]] for r in signal_rows()])


def _signal_and_pids(words: list[str], option: str | None) -> tuple[int, list[int]]:
    number = signal_of(option) if option else None
    rest = list(words)
    if rest and rest[0].startswith("-"):
        if number is not None:
            raise UsageError("kill: give the signal once (-SIG or -s SIG)")
        number = signal_of(rest.pop(0))
    if not rest:
        raise UsageError("kill: which process?", "usage: kill [-SIG] PID...; `ps PATTERN` finds pids")
    pids = []
    for word in rest:
        pid = _pid_of(word)
        if pid not in pids:
            pids.append(pid)
    return (signal.SIGTERM if number is None else number), pids


def _pid_of(word: str) -> int:
    if word.startswith("-"):
        raise UsageError(
            f"kill: {_short(word)}: process groups (negative pids) are refused", "signal the pids one by one"
        )
    pid = small_number(word)
    if pid is None and not word.isdigit():
        raise UsageError(f"kill: not a pid: {_short(word)!r}", f"`ps {_short(word)}` finds its pids")
    highest = _pid_max()
    if pid is None or pid > highest:
        raise UsageError(f"kill: not a pid: {_short(word)!r}", f"pids here are 1 to {highest}")
    if pid == 0:
        raise UsageError("kill: pid 0 means opsh's whole process group: refused")
    return pid


def _pid_max() -> int:
    try:
        return int(Path("/proc/sys/kernel/pid_max").read_text())
    except (OSError, ValueError):
        return PID_MAX_FALLBACK


def _confirm(session: Session, number: int, pids: list[int]) -> None:
    """pid 1, opsh itself, or many pids at once: a slip here takes a machine or a session down."""
    reasons = []
    if 1 in pids:
        reasons.append(f"pid 1 ({_short(_command_of(1) or 'init')})")
    if os.getpid() in pids:
        reasons.append(f"opsh itself (pid {os.getpid()})")
    if len(pids) > CONFIRM_ABOVE:
        shown = ", ".join(map(str, pids[:8])) + (", ..." if len(pids) > 8 else "")
        reasons.append(f"{len(pids)} processes ({shown})")
    if reasons:
        session.confirm(f"Send {signal_name(number)} to {' and '.join(reasons)}?")


def _short(text: str, width: int = 40) -> str:
    """Long enough to recognise, short enough for one line (a pasted blob, a 5000-digit pid)."""
    return text if len(text) <= width else text[: width - 3] + "..."


def _send(pid: int, number: int) -> str:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        return "no such process"
    except PermissionError:
        return "permission denied"
    return "alive" if number == 0 else "sent"


def _complete_signal(prefix: str) -> Iterable[tuple[str, str]]:
    word = prefix.lstrip("-").upper()
    lead = "-" if prefix.startswith("-") else ""
    out = []
    for name, number, action, *_ in signal_rows():
        short = name[3:]
        if short.startswith(word) or name.startswith(word):
            out.append((lead + short, f"{number} {action}"))
    return out


def _complete_pid(prefix: str) -> Iterable[tuple[str, str]]:
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit() and e.startswith(prefix)]
    except OSError:
        return []
    return [(e, (_command_of(int(e)) or "")[:60]) for e in sorted(entries, key=int)[:200]]


COMMANDS = (signals_cmd, KillCmd)
