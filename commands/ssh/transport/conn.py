"""Opening an authenticated SSH transport: socket (direct, ProxyJump or ProxyCommand), key
exchange, host key check, then keys, the agent and finally a password.

Everything slow or secret is decided outside: keys are decrypted beforehand (KeyRing), the
known_hosts file is parsed once (KnownHosts), and questions go through a Prompter, so this
code runs the same on the main thread and in the workers of a parallel run. Every wait is
bounded by the connect deadline and gives up at once when the run is cancelled.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from opsh.commands.ssh.transport import openfiles
from opsh.commands.ssh.transport.hostkeys import HostKeyChanged, HostKeyUnknown, fingerprint
from opsh.commands.ssh.transport.keys import read_public_blob
from opsh.commands.ssh.transport.prompting import CannotAsk, Prompter, UnknownKey
from opsh.shell.errors import AuthError, Cancelled, ConnectError, swallowed

if TYPE_CHECKING:
    from paramiko import PKey, Transport

    from opsh.commands.ssh.hosts.hostspec import HostSpec
    from opsh.commands.ssh.state import SshState


@dataclass
class Passwords:
    """Passwords for one command: remembered ones first, then typed (hidden) ones.

    `shared` lets a run ask once per user and try that password on every host that wants one,
    as `parallel-ssh -A` does; `attempts` is how often a single connection may re-ask.
    """

    state: SshState
    prompter: Prompter
    attempts: int = 3
    shared: bool = False
    typed: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def candidates(self, spec: HostSpec) -> Iterator[str]:
        remembered = self.state.passwords.get((spec.user, spec.hostname, spec.port))
        if remembered is not None:
            yield remembered
        if self.shared:
            with self.lock:
                if spec.user not in self.typed:
                    self.typed[spec.user] = self._ask(spec)
                password = self.typed[spec.user]
            if password != remembered:
                yield password
            return
        for _ in range(self.attempts):
            yield self._ask(spec)

    def _ask(self, spec: HostSpec) -> str:
        if spec.batch:
            raise CannotAsk("BatchMode is set for this host")
        who = f"{spec.user}@{spec.hostname}"
        suffix = " (used for every host of this run that asks)" if self.shared else ""
        return self.prompter.secret(f"{who}'s password{suffix}: ")

    def accepted(self, spec: HostSpec, password: str) -> None:
        self.state.passwords[(spec.user, spec.hostname, spec.port)] = password


@dataclass
class ConnectOptions:
    timeout: float
    prompter: Prompter
    passwords: Passwords
    accept_new: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)
    # Sockets and transports being opened, closed by cancel_all() on Ctrl-C.
    pending: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def track(self, thing: Any) -> None:
        with self.lock:
            self.pending.append(thing)

    def untrack(self, *things: Any) -> None:
        """Opened: from now on the pool (or a handle) owns it, and Ctrl-C must not close it
        under a running command, whose process group still has to get its signals."""
        with self.lock:
            self.pending = [t for t in self.pending if not any(t is thing for thing in things)]

    def cancel_all(self) -> None:
        self.cancel.set()
        with self.lock:
            pending, self.pending = self.pending, []
        for thing in pending:
            try:
                thing.close()
            except Exception:  # noqa: BLE001 - best effort on the way out
                swallowed("closing a connection being opened, on cancel")


def open_transport(state: SshState, spec: HostSpec, options: ConnectOptions, depth: int = 0) -> Transport:
    """A new, authenticated transport to `spec` (through its jump hosts)."""
    import paramiko

    if depth > 8:
        raise ConnectError(f"{spec.name}: ProxyJump chain too long (a loop in the ssh config?)")
    limit = min(options.timeout, spec.connect_timeout or options.timeout)
    deadline = time.monotonic() + limit
    sock = _socket(state, spec, options, deadline, depth)
    transport = paramiko.Transport(sock)
    options.track(transport)
    try:
        _handshake(transport, state, spec, options, deadline, limit)
        authenticate(transport, state, spec, options)
    except BaseException:
        transport.close()
        raise
    options.untrack(transport, sock)
    _idle_quietly(sock)
    return transport


def pooled_transport(state: SshState, spec: HostSpec, options: ConnectOptions) -> Transport:
    """The kept connection to `spec`, opened now (once, whichever worker asks first) if none is."""
    return state.pool.get(spec.pool_key, partial(open_transport, state, spec, options))


@contextmanager
def held_transport(state: SshState, spec: HostSpec, options: ConnectOptions) -> Iterator[Transport]:
    """The kept connection to `spec` for one piece of work, handed back to the pool after it: a
    pool at its open-files limit closes only connections nobody holds."""
    transport = pooled_transport(state, spec, options)
    try:
        yield transport
    finally:
        state.pool.release(spec.pool_key, transport)


def _idle_quietly(sock: Any) -> None:
    """paramiko's reader thread wakes every 0.1 s to check its state; a kept connection needs
    that far less often (closing shuts the socket down, which wakes it at once anyway)."""
    if isinstance(sock, socket.socket):
        sock.settimeout(1.0)


def _handshake(
    transport: Transport, state: SshState, spec: HostSpec, options: ConnectOptions, deadline: float, limit: float
) -> None:
    # paramiko's own limits a little later than ours, so a silent host reads "timed out"
    transport.banner_timeout = limit + 1
    transport.handshake_timeout = limit + 1
    transport.auth_timeout = limit + 1
    known = state.known_hosts(spec.known_hosts, list(spec.system_known_hosts))
    security = transport.get_security_options()
    security.key_types = known.preferred_key_types(spec.known_as, security.key_types)
    security.ciphers = aead_first(security.ciphers)
    done = threading.Event()
    transport.start_client(event=done)
    if not _wait(done, deadline, options.cancel):
        raise ConnectError(f"timed out: no SSH handshake within {limit:g}s")
    if not transport.is_active():
        error = transport.get_exception()
        if error is None or isinstance(error, EOFError):
            raise ConnectError("the server closed the connection during the handshake", "MaxStartups, or a firewall?")
        raise error
    verify_host_key(transport.get_remote_server_key(), known, spec, options)


def aead_first(ciphers: Sequence[str]) -> tuple[str, ...]:
    """AES-GCM before paramiko's first choice, AES-CTR with HMAC-SHA2: the same strength, and
    one pass per packet where paramiko checks an HMAC in Python (a tenth of the CPU of a
    command on a kept connection; OpenSSH's ssh offers GCM too)."""
    aead = tuple(c for c in ciphers if c.endswith("-gcm@openssh.com"))
    return aead + tuple(c for c in ciphers if c not in aead)


def _wait(event: threading.Event, deadline: float, cancel: threading.Event) -> bool:
    while not event.is_set():
        if cancel.is_set():
            raise Cancelled("cancelled")
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        event.wait(min(left, 0.1))
    return True


def _socket(state: SshState, spec: HostSpec, options: ConnectOptions, deadline: float, depth: int) -> Any:
    import paramiko

    if spec.proxy_command:
        proxy = paramiko.ProxyCommand(spec.proxy_command)
        options.track(proxy)
        return proxy
    if spec.proxy_jump:
        return _jump_channel(state, spec, options, depth)
    remaining = max(deadline - time.monotonic(), 0.05)
    try:
        sock = socket.create_connection((spec.hostname, spec.port), timeout=remaining)
    except TimeoutError:
        raise ConnectError(f"timed out connecting to {spec.hostname}:{spec.port} ({remaining:.3g}s)") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock = openfiles.lift(sock)
    options.track(sock)
    return sock


def _jump_channel(state: SshState, spec: HostSpec, options: ConnectOptions, depth: int) -> Any:
    """A direct-tcpip channel to `spec` through the last jump host (opened in turn)."""
    hops: list[HostSpec] = list(spec.extra.get("jumps", ()))
    if not hops:
        raise ConnectError(f"{spec.name}: ProxyJump {spec.proxy_jump!r} names no usable host")
    transport: Transport | None = None
    for hop in hops:
        if transport is None:
            transport = state.pool.get(hop.pool_key, partial(open_transport, state, hop, options, depth + 1))
        else:
            channel = transport.open_channel("direct-tcpip", (hop.hostname, hop.port), ("127.0.0.1", 0))
            transport = open_transport_over(state, hop, options, channel, depth + 1)
    assert transport is not None
    return transport.open_channel("direct-tcpip", (spec.hostname, spec.port), ("127.0.0.1", 0), timeout=options.timeout)


def open_transport_over(state: SshState, spec: HostSpec, options: ConnectOptions, sock: Any, depth: int) -> Transport:
    import paramiko

    limit = min(options.timeout, spec.connect_timeout or options.timeout)
    transport = paramiko.Transport(sock)
    options.track(transport)
    _handshake(transport, state, spec, options, time.monotonic() + limit, limit)
    authenticate(transport, state, spec, options)
    options.untrack(transport, sock)
    return transport


# ---------------------------------------------------------------- host keys


def verify_host_key(key: PKey, known: Any, spec: HostSpec, options: ConnectOptions) -> None:
    verdict = known.check(spec.known_as, key, spec.known_without_port)
    if verdict.status == "known":
        return
    unknown = UnknownKey(spec.name, spec.known_as, key.get_name(), fingerprint(key))
    where = unknown.where
    if verdict.status in ("changed", "revoked"):
        what = "REVOKED" if verdict.status == "revoked" else "CHANGED"
        raise HostKeyChanged(
            f"HOST KEY {what} for {where}: the server sent {key.get_name()} {fingerprint(key)}"
            + (f" but {known.path} has {verdict.expected}" if verdict.expected else "")
            + "; someone may be intercepting this connection, or the host was reinstalled. Refused",
            f"if the change is expected, remove the old key: ssh-keygen -R '{spec.known_as}' -f {known.path}",
        )
    if options.accept_new or spec.strict == "accept-new":
        known.add(spec.known_as, key, hashed=spec.hash_known_hosts)
        return
    refusal = HostKeyUnknown(
        f"unknown host key for {where}: {unknown.described}",
        "check the fingerprint, then connect interactively, or add --accept-new",
    )
    if spec.strict == "yes":
        raise refusal
    try:
        trusted = options.prompter.trust(unknown)
    except CannotAsk:
        raise refusal from None
    if not trusted:
        raise HostKeyUnknown(f"host key for {where} not trusted: {fingerprint(key)}", "nothing was changed")
    known.add(spec.known_as, key, hashed=spec.hash_known_hosts)


# ---------------------------------------------------------------- authentication


def authenticate(transport: Transport, state: SshState, spec: HostSpec, options: ConnectOptions) -> None:
    """Keys from files, then the agent, then a password: the first that works."""
    allowed: list[str] | None = None
    tried: list[str] = []
    notes: list[str] = []
    if spec.pubkey_auth:
        allowed = _try_keys(transport, state, spec, options, tried, notes)
        if transport.is_authenticated():
            return
    if spec.password_auth and (allowed is None or {"password", "keyboard-interactive"} & set(allowed)):
        tried.append("password")
        only = _try_passwords(transport, spec, options, notes)
        if transport.is_authenticated():
            return
        allowed = only if only is not None else allowed
    methods = ",".join(allowed) if allowed else ",".join(tried) or "none"
    hint = "; ".join(notes) if notes else "check the user, the key (IdentityFile) or the password"
    raise AuthError(f"permission denied ({methods}) for {spec.user}@{spec.hostname}", hint)


def _try_passwords(transport: Transport, spec: HostSpec, options: ConnectOptions, notes: list[str]) -> list[str] | None:
    """Remembered, then typed passwords until one works; a list: the only methods the server takes."""
    import paramiko

    try:
        for password in options.passwords.candidates(spec):
            _check_cancel(options)
            try:
                transport.auth_password(spec.user, password)
            except paramiko.BadAuthenticationType as exc:
                return list(exc.allowed_types)
            except paramiko.AuthenticationException:
                swallowed("logging in with a password (refused: the next one, if any)")
                continue
            if transport.is_authenticated():
                options.passwords.accepted(spec, password)
                return None
    except CannotAsk as exc:
        notes.append(f"no password: {exc.message}")
    return None


def _try_keys(
    transport: Transport, state: SshState, spec: HostSpec, options: ConnectOptions, tried: list[str], notes: list[str]
) -> list[str] | None:
    identities = state.keys.get(spec.identity_files)
    for identity in identities:
        if identity.key is None:
            if not identity.in_agent and identity.note:
                notes.append(f"key {identity.path}: {identity.note}")
            continue
        outcome = _offer_key(transport, spec, identity.key, options, tried)
        if outcome is not False:
            return outcome
    return _try_agent(transport, spec, options, identities, tried)


def _offer_key(
    transport: Transport, spec: HostSpec, key: Any, options: ConnectOptions, tried: list[str]
) -> list[str] | None | Literal[False]:
    """None: logged in; False: this key was refused, try the next; a list: the server only
    takes these methods (keys are pointless)."""
    import paramiko

    _check_cancel(options)
    tried.append("publickey")
    try:
        transport.auth_publickey(spec.user, key)
    except paramiko.BadAuthenticationType as exc:
        return list(exc.allowed_types)
    except paramiko.AuthenticationException:
        swallowed("offering a key (refused: the next one, if any)")
        return False
    return None if transport.is_authenticated() else False


def _try_agent(
    transport: Transport, spec: HostSpec, options: ConnectOptions, identities: list[Any], tried: list[str]
) -> list[str] | None:
    import os

    import paramiko

    if not os.environ.get("SSH_AUTH_SOCK"):
        return None
    wanted = {read_public_blob(i.path)[0] for i in identities} if spec.identities_only else None
    try:
        agent = paramiko.Agent()  # one per connection: an agent socket is not shared between threads
    except Exception:  # noqa: BLE001 - no usable agent
        swallowed("opening the ssh-agent (logging in without it)")
        return None
    try:
        for key in agent.get_keys():
            if wanted is not None and key.asbytes() not in wanted:
                continue
            outcome = _offer_key(transport, spec, key, options, tried)
            if outcome is not False:
                return outcome
    finally:
        agent.close()
    return None


def _check_cancel(options: ConnectOptions) -> None:
    if options.cancel.is_set():
        raise Cancelled("cancelled")
