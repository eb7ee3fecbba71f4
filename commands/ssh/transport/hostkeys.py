"""Checking a server's host key against known_hosts, as OpenSSH does.

The file is parsed once per session (plain names in a dict, hashed `|1|` entries and wildcard
patterns in a list) and compared as (key type, base64 blob), so checking twenty hosts costs
microseconds. A key type the server offers that is not on file for the host is "unknown"
(asked about, like OpenSSH); the same type with a different blob is "changed" and always
refused. New keys are appended under a lock, since parallel runs accept keys from threads.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from opsh.shell.errors import ConnectError, swallowed

if TYPE_CHECKING:
    from paramiko import PKey

# Host key algorithms that can verify a stored key of each type (for negotiation order).
_ALGORITHMS = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256")}


class HostKeyUnknown(ConnectError):
    """The server's key is not in known_hosts (and was not accepted)."""


class HostKeyChanged(ConnectError):
    """The server's key differs from the one on file: possible man-in-the-middle."""


@dataclass
class _Entry:
    patterns: list[str]
    key_type: str
    blob: str
    revoked: bool = False
    # (negated, compiled pattern) of wildcard patterns, compiled once when the file is read
    wildcards: list[tuple[bool, re.Pattern[str]]] = field(default_factory=list)


@dataclass
class Verdict:
    status: str  # "known" | "unknown" | "changed" | "revoked"
    name: str  # the known_hosts name that was looked up
    expected: str | None = None  # fingerprint on file, for "changed"
    other_types: list[str] = field(default_factory=list)


def fingerprint(key: PKey) -> str:
    """OpenSSH's `SHA256:...` form, as `ssh-keygen -l` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _blob_fingerprint(blob: str) -> str:
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_name(host: str, port: int) -> str:
    """How known_hosts names a host: `host` on port 22, `[host]:port` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


class KnownHosts:
    """One user known_hosts file (written to) plus read-only system files."""

    def __init__(self, path: Path, extra: Iterable[Path] = ()) -> None:
        self.path = path
        self.plain: dict[str, list[_Entry]] = {}
        self.special: list[_Entry] = []  # hashed or wildcard entries
        self.lock = threading.Lock()
        for source in (*extra, path):
            self._load(source)

    def _load(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            swallowed(f"reading known hosts {path} (taken as empty)")
            return
        for line in text.splitlines():
            self._add_line(line)

    def _add_line(self, line: str) -> None:
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            return
        revoked = False
        if fields[0].startswith("@"):
            if fields[0] != "@revoked":
                return  # @cert-authority: certificates are not supported
            revoked, fields = True, fields[1:]
        if len(fields) < 3:
            return
        entry = _Entry(fields[0].split(","), fields[1], fields[2], revoked)
        if any(p.startswith("|1|") or any(c in p for c in "*?!") for p in entry.patterns):
            entry.wildcards = [
                (p.startswith("!"), _wildcard(p.removeprefix("!"))) for p in entry.patterns if not p.startswith("|1|")
            ]
            self.special.append(entry)
        else:
            for name in entry.patterns:
                self.plain.setdefault(name, []).append(entry)

    def entries_for(self, name: str) -> list[_Entry]:
        found = list(self.plain.get(name, ()))
        found += [e for e in self.special if _matches(name, e)]
        return found

    def preferred_key_types(self, name: str, offered: Iterable[str]) -> list[str]:
        """`offered` host key algorithms, those we hold a key for first (as OpenSSH orders them)."""
        offered = list(offered)
        known: list[str] = []
        for entry in self.entries_for(name):
            for algorithm in _ALGORITHMS.get(entry.key_type, (entry.key_type,)):
                if algorithm in offered and algorithm not in known:
                    known.append(algorithm)
        return known + [a for a in offered if a not in known]

    def check(self, name: str, key: PKey) -> Verdict:
        key_type, blob = key.get_name(), key.get_base64()
        entries = self.entries_for(name)
        if any(e.revoked and e.blob == blob for e in entries):
            return Verdict("revoked", name)
        same_type = [e for e in entries if e.key_type == key_type and not e.revoked]
        if any(e.blob == blob for e in same_type):
            return Verdict("known", name)
        if same_type:
            return Verdict("changed", name, _blob_fingerprint(same_type[0].blob))
        return Verdict("unknown", name, other_types=sorted({e.key_type for e in entries if not e.revoked}))

    def add(self, name: str, key: PKey, hashed: bool = False) -> None:
        """Remember `key` for `name` and append it to the user file (created 0600 in a 0700 dir)."""
        written = _hash_name(name) if hashed else name
        line = f"{written} {key.get_name()} {key.get_base64()}"
        with self.lock:
            self._add_line(line)
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            new = not self.path.exists()
            with open(self.path, "a", encoding="utf-8") as out:
                if not new and self.path.stat().st_size and not _ends_with_newline(self.path):
                    out.write("\n")
                out.write(line + "\n")
            if new:
                self.path.chmod(0o600)


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, 2)
        return f.read(1) == b"\n"


def _matches(name: str, entry: _Entry) -> bool:
    """A negated pattern that matches wins over everything (OpenSSH's match_hostname)."""
    if any(p.startswith("|1|") and _hashed_match(name, p) for p in entry.patterns):
        return True
    matched = False
    for negated, pattern in entry.wildcards:
        if pattern.fullmatch(name):
            if negated:
                return False
            matched = True
    return matched


def _wildcard(pattern: str) -> re.Pattern[str]:
    """OpenSSH's match_pattern(): only `*` and `?` are special, everything else (the brackets
    of `[127.0.1.*]:2422` included) is literal, and host names compare without case. fnmatch
    would read `[...]` as a character class and never match such an entry."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _hashed_match(name: str, entry: str) -> bool:
    try:
        _, _, salt, digest = entry.split("|", 3)
        mac = hmac.new(base64.b64decode(salt), name.encode(), hashlib.sha1).digest()
        return hmac.compare_digest(base64.b64encode(mac).decode(), digest)
    except (ValueError, TypeError):
        swallowed("matching a hashed known_hosts entry (a malformed one never matches)")
        return False


def _hash_name(name: str) -> str:
    import os

    salt = os.urandom(20)
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"
