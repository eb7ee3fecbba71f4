"""Private keys, loaded once per session; passphrases asked once, on the main thread.

A parallel run needs every key before its threads start (a worker cannot ask), so commands
call `prepare()` for the identity files of all their hosts first. An encrypted key that the
ssh-agent already holds is left to the agent (no prompt). Decrypted keys stay in memory for
the session, as an agent would keep them; passphrases are not kept.
"""

from __future__ import annotations

import base64
import io
import os
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsh.shell.errors import OpshError, swallowed
from opsh.shell.fileread import read_text

if TYPE_CHECKING:
    from paramiko import AgentKey, PKey

AskSecret = Callable[[str], str]
_ATTEMPTS = 3
_KEY_FILE_LIMIT = 1024 * 1024  # an RSA 16384 private key is 13 KB


@dataclass
class Identity:
    path: str
    key: PKey | None = None
    note: str = ""  # why there is no key: "not found", "wrong passphrase", "held by the agent"...
    in_agent: bool = False


class KeyRing:
    def __init__(self) -> None:
        self.loaded: dict[str, Identity] = {}
        self.lock = threading.Lock()

    def prepare(self, paths: Iterable[str], ask: AskSecret | None) -> list[Identity]:
        """Load each key once; encrypted ones ask `ask` (None: cannot ask, key skipped)."""
        agent_blobs: set[bytes] | None = None
        out = []
        for path in dict.fromkeys(paths):
            with self.lock:
                known = self.loaded.get(path)
            if known is not None:
                out.append(known)
                continue
            public, encrypted = read_public_blob(path)
            if encrypted and public is not None:
                if agent_blobs is None:
                    agent_blobs = {k.asbytes() for k in agent_keys()}
                if public in agent_blobs:
                    out.append(self._remember(Identity(path, note="held by the agent", in_agent=True)))
                    continue
            identity = _load(path, ask if encrypted else None, encrypted)
            if identity.key is not None or identity.note in ("not found", "wrong passphrase"):
                self._remember(identity)
            out.append(identity)
        return out

    def _remember(self, identity: Identity) -> Identity:
        with self.lock:
            self.loaded[identity.path] = identity
        return identity

    def get(self, paths: Iterable[str]) -> list[Identity]:
        """Identities already prepared (workers call this: it never asks)."""
        with self.lock:
            return [self.loaded[p] for p in paths if p in self.loaded]


def _load(path: str, ask: AskSecret | None, encrypted: bool) -> Identity:
    if not os.path.exists(path):
        return Identity(path, note="not found")
    try:
        text = _read_key_file(path)
    except OpshError as exc:  # a device or a fifo named as a key: refused before a byte is read
        return Identity(path, note=exc.message)
    except OSError as exc:
        return Identity(path, note=f"unreadable: {exc.strerror}")
    if not encrypted:
        try:
            return Identity(path, _load_key(path, text, None))
        except Exception as exc:  # noqa: BLE001 - an unreadable key is skipped, like ssh does
            return Identity(path, note=f"unreadable: {exc}")
    if ask is None:
        return Identity(path, note="encrypted, and no terminal to ask for its passphrase")
    for _ in range(_ATTEMPTS):
        passphrase = ask(f"passphrase for key {path}: ")
        if not passphrase:
            return Identity(path, note="no passphrase given")
        try:
            return Identity(path, _load_key(path, text, passphrase))
        except Exception:  # noqa: BLE001 - paramiko raises SSHException/ValueError for a bad passphrase
            swallowed(f"decrypting key {path} (wrong passphrase?)")
            continue
    return Identity(path, note="wrong passphrase")


def _read_key_file(path: str) -> str:
    """A key file's text, through the bounded reader (IdentityFile /dev/zero, or a fifo, must
    not be read forever; a real key is a few kilobytes)."""
    return read_text(path, path, "file", limit=_KEY_FILE_LIMIT, errors="replace")


def _read_quietly(path: str) -> str | None:
    """A key file's text, or None when it is missing or cannot be read (the reason is logged)."""
    try:
        return _read_key_file(path)
    except (OpshError, OSError):
        swallowed(f"reading key file {path}")
        return None


def _load_key(path: str, text: str, passphrase: str | None) -> PKey:
    import paramiko

    key_type = _key_type(path, text)
    by_type: dict[str, list[type[PKey]]] = {"ssh-ed25519": [paramiko.Ed25519Key], "ssh-rsa": [paramiko.RSAKey]}
    classes = by_type.get(key_type or "", [])
    if key_type and key_type.startswith("ecdsa-"):
        classes = [paramiko.ECDSAKey]
    errors: list[Exception] = []
    for cls in classes or [paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey]:
        try:
            return cls.from_private_key(io.StringIO(text), password=passphrase)
        except paramiko.PasswordRequiredException:
            raise
        except Exception as exc:  # noqa: BLE001 - try the next key class
            swallowed(f"reading key {path} as {cls.__name__}")
            errors.append(exc)
    raise errors[-1] if errors else ValueError(f"unsupported key type {key_type}")


def _key_type(path: str, text: str) -> str | None:
    public = _read_quietly(path + ".pub")
    if public and public.split():
        return public.split()[0]
    blob, _ = _openssh_public(text, path)
    if blob is not None:
        return _string(blob, 0)[0].decode(errors="replace")
    if "BEGIN RSA PRIVATE KEY" in text[:200]:
        return "ssh-rsa"
    if "BEGIN EC PRIVATE KEY" in text[:200]:
        return "ecdsa-sha2-nistp256"
    return None


def read_public_blob(path: str) -> tuple[bytes | None, bool]:
    """(public key blob, is the private key encrypted) without decrypting anything."""
    text = _read_quietly(path) or ""
    blob, encrypted = _openssh_public(text, path)
    if blob is None:
        encrypted = "ENCRYPTED" in text[:200]
        try:
            blob = base64.b64decode((_read_quietly(path + ".pub") or "").split()[1])
        except (IndexError, ValueError):
            swallowed(f"reading the public key {path}.pub")
            blob = None
    return blob, encrypted


def _openssh_public(text: str, path: str) -> tuple[bytes | None, bool]:
    """The public blob and cipher name of an `OPENSSH PRIVATE KEY` file (stored in clear)."""
    begin, end = "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----"
    if begin not in text or end not in text:
        return None, False
    try:
        data = base64.b64decode("".join(text.split(begin, 1)[1].split(end, 1)[0].split()))
        magic = b"openssh-key-v1\x00"
        if not data.startswith(magic):
            return None, False
        offset = len(magic)
        cipher, offset = _string(data, offset)
        _kdf, offset = _string(data, offset)
        _kdf_options, offset = _string(data, offset)
        offset += 4  # number of keys
        blob, _ = _string(data, offset)
        return blob, cipher != b"none"
    except (ValueError, struct.error):
        swallowed(f"reading the public part of OpenSSH key {path}")
        return None, False


def _string(data: bytes, offset: int) -> tuple[bytes, int]:
    (length,) = struct.unpack(">I", data[offset : offset + 4])
    start = offset + 4
    if start + length > len(data):
        raise ValueError("truncated")
    return data[start : start + length], start + length


def agent_keys() -> list[AgentKey]:
    """Keys offered by the ssh-agent at $SSH_AUTH_SOCK (none when there is no agent)."""
    if not os.environ.get("SSH_AUTH_SOCK"):
        return []
    import paramiko

    try:
        agent = paramiko.Agent()
    except Exception:  # noqa: BLE001 - a dead agent socket means no agent
        swallowed("listing the ssh-agent's keys")
        return []
    try:
        return list(agent.get_keys())
    finally:
        agent.close()
