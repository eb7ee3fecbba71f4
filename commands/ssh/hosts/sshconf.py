"""Reading ~/.ssh/config (through paramiko's SSHConfig) and where the SSH files are.

paramiko parses Host/Match blocks, wildcards and `%h`-style tokens but not `Include`, so the
text is assembled here first: each `Include` line is replaced by the files it names (globs,
paths relative to ~/.ssh), recursively. The result is cached per session and re-read when
the file changes.

Tests and users with several setups point opsh elsewhere without touching ~/.ssh:
`OPSH_SSH_CONFIG` / the `ssh_config` setting, `OPSH_KNOWN_HOSTS` / `known_hosts`.
"""

from __future__ import annotations

import glob
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from opsh.shell.errors import NotFound, OpshError, swallowed
from opsh.shell.fileread import read_text

if TYPE_CHECKING:
    from paramiko import SSHConfig

    from opsh.shell.session import Session

_INCLUDE = re.compile(r"^\s*include(?:\s*=\s*|\s+)(.+?)\s*$", re.I)
_MATCH_EXEC = re.compile(r"^\s*match\b.*\bexec\b", re.I | re.M)
_MAX_DEPTH = 16


def config_path(session: Session) -> Path:
    return Path(os.path.expanduser(os.environ.get("OPSH_SSH_CONFIG") or session.settings.get("ssh_config")))


def known_hosts_path(session: Session) -> Path:
    return Path(os.path.expanduser(os.environ.get("OPSH_KNOWN_HOSTS") or session.settings.get("known_hosts")))


def system_known_hosts(session: Session) -> list[Path]:
    """/etc/ssh/ssh_known_hosts, read-only; skipped when opsh is pointed at its own file."""
    if os.environ.get("OPSH_KNOWN_HOSTS"):
        return []
    return [Path("/etc/ssh/ssh_known_hosts")]


def load_config(path: Path) -> SSHConfig:
    """The parsed config at `path` (empty when it does not exist), Includes expanded."""
    text = "\n".join(_expanded_lines(path, path.parent, 0)) if path.exists() else ""
    import_paramiko(needs_invoke=bool(_MATCH_EXEC.search(text)))
    from opsh.commands.ssh.hosts.fastconfig import FastSSHConfig

    try:
        return FastSSHConfig.from_text(text)
    except Exception as exc:  # noqa: BLE001 - paramiko raises bare exceptions for bad lines
        raise OpshError(f"ssh config {path}: {exc}", "fix the line, or point OPSH_SSH_CONFIG elsewhere") from None


def import_paramiko(needs_invoke: bool = False) -> ModuleType:
    """paramiko, imported without `invoke` unless the config has a `Match exec` line.

    paramiko's config module imports invoke (half of paramiko's import time, paid by every
    `opsh -c 'run ...'`) only to evaluate `Match exec`. Without such a line it is kept out;
    when one appears later, invoke is handed to paramiko then.
    """
    if "paramiko" not in sys.modules and not needs_invoke and "invoke" not in sys.modules:
        sys.modules["invoke"] = None  # type: ignore[assignment]  # makes `import invoke` fail fast
        try:
            import paramiko
        finally:
            if sys.modules.get("invoke", 0) is None:
                del sys.modules["invoke"]
    import paramiko
    import paramiko.config

    _quiet(paramiko)
    if needs_invoke and paramiko.config.invoke is None:  # type: ignore[attr-defined]  # private: see fastconfig
        import invoke

        paramiko.config.invoke, paramiko.config.invoke_import_error = invoke, None  # type: ignore[attr-defined]
    return paramiko


def _quiet(paramiko: ModuleType) -> None:
    """paramiko logs every failed handshake with a traceback (21 lines per host for a port
    that speaks something other than SSH), which Python prints when no handler is set. opsh
    reports those failures itself, as one line, so paramiko's records go to a handler that
    drops them (a handler someone configured for paramiko is left alone)."""
    import logging

    logger = logging.getLogger(paramiko.__name__)
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def _expanded_lines(path: Path, root: Path, depth: int) -> list[str]:
    if depth > _MAX_DEPTH:
        raise OpshError(f"ssh config: Include nested too deeply at {path}")
    out: list[str] = []
    for line in _read_config(path).splitlines():
        match = _INCLUDE.match(line)
        if not match:
            out.append(line)
            continue
        for pattern in match.group(1).split():
            for included in _include_targets(pattern.strip("\"'"), root):
                out.extend(_expanded_lines(included, root, depth + 1))
    return out


def _read_config(path: Path) -> str:
    """A config file's text through the bounded reader: /dev/zero or a fifo named as the
    config (or included by it) is an error, never a read that does not end."""
    try:
        return read_text(path, f"ssh config {path}", "file", errors="replace")
    except NotFound:
        swallowed(f"reading the included ssh config {path} (gone: skipped, as OpenSSH skips it)")
        return ""
    except OSError as exc:
        raise OpshError(f"ssh config {path}: {exc.strerror}") from None


def _include_targets(pattern: str, root: Path) -> list[Path]:
    """Relative Include paths are relative to the main config's directory (~/.ssh, as OpenSSH).
    A directory a wildcard matches is skipped (OpenSSH reads it as empty); anything else is read."""
    expanded = os.path.expanduser(pattern)
    if not os.path.isabs(expanded):
        expanded = str(root / expanded)
    return [Path(p) for p in sorted(glob.glob(expanded)) if not os.path.isdir(p)]


class ConfigCache:
    """The config, parsed once and re-read only when the file's mtime changes."""

    def __init__(self) -> None:
        self.key: tuple[str, float] | None = None
        self.config: Any = None

    def get(self, path: Path) -> SSHConfig:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            swallowed(f"reading the time of {path} (taken as missing)")
            mtime = -1.0
        key = (str(path), mtime)
        if key != self.key:
            self.config = load_config(path)
            self.key = key
        return self.config  # type: ignore[no-any-return]


def concrete_hosts(config: SSHConfig) -> list[str]:
    """Host names written literally in the config (no wildcards, no negations); an alias a
    shell could read as syntax is left out, as every host name is checked (names.py)."""
    from opsh.commands.ssh.hosts.names import valid_host

    names = config.get_hostnames()
    return sorted(n for n in names if not any(c in n for c in "*?!") and valid_host(n))
