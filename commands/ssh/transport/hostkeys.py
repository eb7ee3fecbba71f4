"""Checking a server's host key against known_hosts, as OpenSSH 9.2 does.

The file is parsed once per session (plain names in a dict, hashed `|1|` entries and wildcard
patterns in a list) and compared as (key type, base64 blob), so checking twenty hosts costs
microseconds. The rules are OpenSSH's (sshconnect.c check_host_key, hostfile.c): the name is
`host`, `[host]:port` off port 22, or the HostKeyAlias exactly as written, all lowercase; a key
on file for the name is "known"; any other key on file for it, of the same type or not, makes
it "changed" (always refused); nothing on file is "unknown" (asked about). For an unknown
`[host]:port` without HostKeyAlias, the plain `host` entries are tried too (OpenSSH's "found
matching key w/out port"): the key there means known; anything else there changes nothing, and
an accepted key is written under `[host]:port`. New keys are appended under a lock, since
parallel runs accept keys from threads.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import stat
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from opsh.shell.errors import ConnectError, NotFound, swallowed
from opsh.shell.fileread import NotRegularFile, read_text

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
    expected: str | None = None  # for "changed": the fingerprint on file (and its type, if another)


def fingerprint(key: PKey) -> str:
    """OpenSSH's `SHA256:...` form, as `ssh-keygen -l` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _blob_fingerprint(blob: str) -> str:
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_name(host: str, port: int) -> str:
    """How known_hosts names a host: `host` on port 22, `[host]:port` otherwise (lowercase,
    as OpenSSH looks it up and writes it)."""
    host = host.lower()
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
        for line in _read_known_hosts(path).splitlines():
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
            for name in entry.patterns:  # host names compare without case, as in OpenSSH
                self.plain.setdefault(name.lower(), []).append(entry)

    def entries_for(self, name: str) -> list[_Entry]:
        found = list(self.plain.get(name.lower(), ()))
        found += [e for e in self.special if _matches(name, e)]
        return found

    def knows(self, name: str, without_port: str | None = None) -> bool:
        """Anything on file for the host, under either name `check` would look up."""
        return bool(self.entries_for(name) or (without_port and self.entries_for(without_port)))

    def preferred_key_types(self, name: str, offered: Iterable[str]) -> list[str]:
        """`offered` host key algorithms, those we hold a key for first (as OpenSSH orders them)."""
        offered = list(offered)
        known: list[str] = []
        for entry in self.entries_for(name):
            for algorithm in _ALGORITHMS.get(entry.key_type, (entry.key_type,)):
                if algorithm in offered and algorithm not in known:
                    known.append(algorithm)
        return known + [a for a in offered if a not in known]

    def check(self, name: str, key: PKey, without_port: str | None = None) -> Verdict:
        """The verdict for `key` under `name`; `without_port` is the plain host name to try
        when nothing is on file for `name` (see HostSpec.known_without_port)."""
        verdict = self._check_name(name, key)
        if verdict.status != "unknown" or without_port is None:
            return verdict
        fallback = self._check_name(without_port, key)
        # revoked there too: OpenSSH 9.2 warns, then goes on as for an unknown key (and
        # accept-new would add it); a key revoked for the host is refused here, whatever the port
        return fallback if fallback.status in ("known", "revoked") else verdict

    def _check_name(self, name: str, key: PKey) -> Verdict:
        key_type, blob = key.get_name(), key.get_base64()
        entries = self.entries_for(name)
        if any(e.revoked and e.key_type == key_type and e.blob == blob for e in entries):
            return Verdict("revoked", name)
        on_file = [e for e in entries if not e.revoked]
        if any(e.key_type == key_type and e.blob == blob for e in on_file):
            return Verdict("known", name)
        if on_file:  # another key, or a key of another type: OpenSSH's HOST_CHANGED either way
            same_type = [e for e in on_file if e.key_type == key_type]
            held = (same_type or on_file)[0]
            expected = _blob_fingerprint(held.blob)
            return Verdict("changed", name, expected if same_type else f"{held.key_type} {expected}")
        return Verdict("unknown", name)

    def add(self, name: str, key: PKey, hashed: bool = False) -> None:
        """Remember `key` for `name` and append it to the user file (created 0600 in a 0700
        dir); when the file is /dev/null, the key is kept for the session only."""
        written = _hash_name(name) if hashed else name
        line = f"{written} {key.get_name()} {key.get_base64()}"
        with self.lock:
            self._add_line(line)
            if not _is_null(self.path):
                _append(self.path, line)


def _read_known_hosts(path: Path) -> str:
    """The text of a known_hosts file, read through the bounded reader. A missing or unreadable
    file is empty, as for OpenSSH, and so is /dev/null (the usual way to keep no keys); any other
    device, a fifo or a directory is an error: /dev/zero would be read until memory ran out and
    a fifo would hang every connection."""
    try:
        return read_text(path, f"known_hosts {path}", "file", errors="replace")
    except NotRegularFile as exc:
        if _is_null(path):
            return ""
        raise NotRegularFile(exc.message, "point it at a regular file, or at /dev/null to keep no host keys") from None
    except (NotFound, OSError):
        swallowed(f"reading known hosts {path} (taken as empty)")
        return ""


def _is_null(path: Path) -> bool:
    try:
        return os.path.samefile(path, os.devnull)
    except OSError:
        return False


def _append(path: Path, line: str) -> None:
    """Add `line` at the end (after a newline if the file lacks its last one). The open never
    blocks, so a fifo put in the file's place cannot hang a run, and only a regular file is
    written to."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(f"known_hosts {path} is not a regular file: the key was not saved")
        text = line + "\n"
        if st.st_size and os.pread(fd, 1, st.st_size - 1) != b"\n":
            text = "\n" + text
        os.write(fd, text.encode())
    finally:
        os.close(fd)


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
    salt = os.urandom(20)
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"
