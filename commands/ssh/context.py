"""What `run`, `copy` and `connect` need before any connection: targets, host specs, keys.

All of it happens on the main thread (reading files, asking key passphrases), so the workers
that follow only connect and never ask for a decrypted key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from opsh.commands.ssh.conn import ConnectOptions, Passwords
from opsh.commands.ssh.hostspec import HostSpec, inventory, resolve
from opsh.commands.ssh.prompting import CannotAsk, Prompter
from opsh.commands.ssh.state import ssh_state
from opsh.commands.ssh.targets import TargetContext, parse, split_label

if TYPE_CHECKING:
    from opsh.shell.session import Session


def groups(session: Session) -> dict[str, list[str]]:
    """Group -> member expressions: config [groups], hosts file groups, loaded server lists."""
    out: dict[str, list[str]] = {name: [expr] for name, expr in session.config.groups.items()}
    for entry in inventory(session).values():
        for group in entry.groups:
            out.setdefault(group, []).append(entry.name)
    for group, members in ssh_state(session).loaded_groups.items():
        out.setdefault(group, []).extend(members)
    return out


def target_context(session: Session) -> TargetContext:
    def last(kind: str) -> list[str] | None:
        run = ssh_state(session).last
        if run is None:
            return None
        return run.ok if kind == "ok" else run.failed

    return TargetContext(lambda: groups(session), lambda: list(inventory(session)), last)


def targets(session: Session, expression: str, excludes: list[str] | None = None) -> list[str]:
    return parse(expression, target_context(session), excludes)


def specs_for(session: Session, labels: Iterable[str]) -> dict[str, HostSpec]:
    """A HostSpec per label (not for `local`)."""
    out = {}
    entries = inventory(session)
    for label in labels:
        if label == "local":
            continue
        user, name = split_label(label)
        out[label] = resolve(session, name, user, entries=entries)
    return out


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
            return ""

    ssh_state(session).keys.prepare(all_identity_files(specs), ask if can_ask else None)


def connect_options(
    session: Session, prompter: Prompter, timeout: float, accept_new: bool = False, shared: bool = False
) -> ConnectOptions:
    state = ssh_state(session)
    passwords = Passwords(state, prompter, attempts=1 if shared else 3, shared=shared)
    return ConnectOptions(timeout=timeout, prompter=prompter, passwords=passwords, accept_new=accept_new)


def persist(session: Session) -> float:
    return float(session.settings.get("ssh_persist"))
