"""Per-kind conversion and completion: the one place that knows what an INT or a PATH is.

Commands declare `Kind`s; parsing calls `convert()` and the completer calls `candidates()`.
Areas that own a data source (the SSH inventory knows hosts) contribute it through a module's
`COMPLETERS` mapping, collected by the registry, so this module never imports them.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsh.shell.errors import UsageError, swallowed
from opsh.shell.spec import Kind, Param

if TYPE_CHECKING:
    from opsh.shell.session import Session

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([kKmMgGtT]i?[bB]?|[bB])?$")
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}


def parse_duration(text: str) -> float:
    """Seconds from `30`, `1.5`, `500ms`, `5s`, `2m`, `1h`, `1d`."""
    match = _DURATION.match(text.strip())
    if not match:
        raise UsageError(f"bad duration: {text!r}", "use e.g. 30, 1.5, 500ms, 5s, 2m, 1h")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def parse_size(text: str) -> int:
    """Bytes from `512`, `10k`, `1M`, `2G`, `1.5GiB` (binary units)."""
    match = _SIZE.match(text.strip())
    if not match:
        raise UsageError(f"bad size: {text!r}", "use e.g. 512, 10k, 1M, 2G")
    unit = (match.group(2) or "").lower()[:1]
    size = float(match.group(1)) * _SIZE_UNITS[unit]
    if size > 2**63:  # 1e400 is infinity: int() of it raised OverflowError
        raise UsageError(f"bad size: {text[:40]!r}", "too large")
    return int(size)


def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise UsageError(f"bad boolean: {text!r}", "use on/off, true/false, yes/no, 1/0")


def parse_signal(text: str) -> signal.Signals:
    """A signal from `9`, `KILL`, `SIGKILL` or `kill`."""
    word = text.strip().lstrip("-").upper()
    try:
        if word.isdigit():
            return signal.Signals(int(word))
        return signal.Signals[word if word.startswith("SIG") else f"SIG{word}"]
    except (KeyError, ValueError):
        raise UsageError(f"unknown signal: {text!r}", "see `signals` for the list") from None


def convert(param: Param, text: str) -> Any:
    """The typed value of one token for `param`, or a UsageError naming the parameter."""
    kind = param.kind
    try:
        if kind is Kind.INT:
            return int(text, 0) if text.lower().startswith(("0x", "0o", "0b")) else int(text)
        if kind is Kind.FLOAT:
            return float(text)
    except ValueError:
        raise UsageError(
            f"{param.name}: expected {'an integer' if kind is Kind.INT else 'a number'}, got {text!r}"
        ) from None
    if kind is Kind.DURATION:
        return parse_duration(text)
    if kind is Kind.SIZE:
        return parse_size(text)
    if kind is Kind.BOOL:
        return parse_bool(text)
    if kind is Kind.CHOICE and param.choices and text not in param.choices:
        raise UsageError(f"{param.name}: {text!r} is not one of {', '.join(param.choices)}")
    return text


# ---------------------------------------------------------------- completion


def candidates(session: Session, param: Param, prefix: str) -> Iterable[tuple[str, str]]:
    """(candidate, meta) pairs for `prefix` typed where `param` is expected."""
    kind = param.kind
    if kind is Kind.CHOICE:
        return [(c, "") for c in param.choices if c.startswith(prefix)]
    if kind in (Kind.PATH, Kind.DIR):
        return path_candidates(session, prefix, dirs_only=kind is Kind.DIR)
    if kind is Kind.HANDLE:
        names = ["local", *session.handles]
        return [
            (n, session.handles[n].kind if n in session.handles else "local") for n in names if n.startswith(prefix)
        ]
    if kind is Kind.COMMAND:
        return [(n, "") for n in session.registry.names() if n.startswith(prefix)]
    if kind is Kind.NAME:
        names = [*session.settings.names(), *session.variables]
        return [(n, "setting" if n in session.settings.names() else "variable") for n in names if n.startswith(prefix)]
    if kind is Kind.SIGNAL:
        return [(s.name, str(s.value)) for s in signal.Signals if s.name.startswith(prefix.upper())]
    if kind is Kind.BOOL:
        return [(w, "") for w in ("on", "off") if w.startswith(prefix)]
    if kind is Kind.URL:
        return url_candidates(session, prefix)
    provider = session.registry.completers.get(kind)
    if provider is not None:
        return [(c, meta) for c, meta in provider(session, prefix)]
    return []


def url_candidates(session: Session, prefix: str) -> list[tuple[str, str]]:
    """URLs an area contributes for Kind.URL (what a scan found: `redis://127.0.0.1:6379`),
    configured names, schemes, then hosts: the most particular first, so a scan's finds are
    not listed after every scheme opsh knows."""
    out: list[tuple[str, str]] = []
    found = session.registry.completers.get(Kind.URL)
    if found is not None:
        out += [(c, meta or "found") for c, meta in found(session, prefix)]
    out += [(n, "config") for n in sorted(session.config.connections) if n.startswith(prefix)]
    out += [(f"{s}://", "scheme") for s in sorted(session.registry.connectors) if f"{s}://".startswith(prefix)]
    provider = session.registry.completers.get(Kind.HOST)
    if provider is not None and "://" not in prefix:
        out += [(c, meta or "host") for c, meta in provider(session, prefix)]
    return out


def path_candidates(session: Session, prefix: str, dirs_only: bool = False) -> list[tuple[str, str]]:
    """Entries of the directory named by `prefix`, relative to the session's directory."""
    head, _, tail = prefix.rpartition("/")
    base = head + "/" if head or prefix.startswith("/") else ""
    directory = session.path(os.path.expanduser(head) if head else ".") if base != "/" else Path("/")
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        swallowed("listing a directory for completion")
        return []
    out = []
    for entry in entries:
        if not entry.name.startswith(tail) or (entry.name.startswith(".") and not tail.startswith(".")):
            continue
        is_dir = entry.is_dir()
        if dirs_only and not is_dir:
            continue
        out.append((base + entry.name + ("/" if is_dir else ""), "dir" if is_dir else ""))
    return out
