"""What the main thread settles before any connection: keys decrypted (passphrases asked
now, directly), passwords and connect options built.

Workers that follow only connect and never ask for a decrypted key; the same preparation
serves `connect` on the main thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from opsh.commands.ssh.state import ssh_state
from opsh.commands.ssh.transport.conn import ConnectOptions, Passwords
from opsh.commands.ssh.transport.prompting import CannotAsk, Prompter
from opsh.shell.errors import swallowed

if TYPE_CHECKING:
    from opsh.commands.ssh.hosts.hostspec import HostSpec
    from opsh.shell.session import Session


def all_identity_files(specs: Iterable[HostSpec]) -> list[str]:
    files: list[str] = []
    for spec in specs:
        files += spec.identity_files
        files += all_identity_files(spec.extra.get("jumps", ()))
    return files


def prepare_keys(session: Session, specs: Iterable[HostSpec]) -> None:
    """Decrypt every key these hosts may use, asking passphrases now (main thread, directly)."""
    prompter = Prompter(session)
    specs = list(specs)
    can_ask = not all(s.batch for s in specs)

    def ask(prompt: str) -> str:
        try:
            return prompter.secret(prompt)
        except CannotAsk:
            swallowed("asking a key passphrase (nobody to ask: the key is skipped)")
            return ""

    ssh_state(session).keys.prepare(all_identity_files(specs), ask if can_ask else None)


def connect_options(
    session: Session,
    prompter: Prompter,
    timeout: float,
    accept_new: bool = False,
    shared: bool = False,
    cancel: threading.Event | None = None,
) -> ConnectOptions:
    """`shared`: one typed password tried on every host of a run; `cancel`: the run's flag
    (a single connection gets its own)."""
    passwords = Passwords(ssh_state(session), prompter, attempts=1 if shared else 3, shared=shared)
    return ConnectOptions(
        timeout=timeout,
        prompter=prompter,
        passwords=passwords,
        accept_new=accept_new,
        cancel=cancel if cancel is not None else threading.Event(),
    )


def persist(session: Session) -> float:
    return float(session.settings.get("ssh_persist"))
