"""sudo's password for a command on many hosts (`run --sudo`, `copy --sudo`).

Each host's sudo is answered by sudo.py's dialog in that host's worker. The password is
fetched only when a host's sudo asks for it: one that worked on that host this session, else
the variable named by `--sudo-password-env`, else a question to the person. That question is
a held "sudo" question of the fan-out: the hosts that ask at about the same time are asked
for once (one question per login user, naming them), and the answer is kept for the run, so
a host that asks later gets it without a question. A host whose sudo never asks (NOPASSWD)
never causes one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opsh.commands.shared.nodeset import fold
from opsh.commands.ssh import sudo
from opsh.commands.ssh.exec.remote import RemoteCommand
from opsh.commands.ssh.sudo import SudoFailed, SudoPasswords, sudo_passwords
from opsh.commands.ssh.transport.prompting import CannotAsk
from opsh.shell.errors import UsageError

if TYPE_CHECKING:
    from paramiko import Transport

    from opsh.commands.shared.fanout.control import Job
    from opsh.commands.shared.fanout.events import Question
    from opsh.commands.ssh.hosts.hostspec import HostSpec
    from opsh.shell.session import Session

Key = tuple[str, str, int]  # (login user, host name, port), as sudo.py keeps passwords


@dataclass
class FleetSudo:
    """The run's sudo: who to become, and the passwords (workers read, the main thread asks)."""

    store: SudoPasswords
    user: str | None = None  # sudo -u USER (root when None)
    env_value: str | None = None  # --sudo-password-env's variable, read once
    typed: dict[str, str] = field(default_factory=dict)  # by login user; main thread only

    def password(self, job: Job, key: Key) -> HostPassword:
        """The password source sudo.authenticate() uses for one host (worker side)."""
        return HostPassword(self, key, job.control.ask)

    def start(self, job: Job, transport: Transport, spec: HostSpec, line: str, timeout: float) -> RemoteCommand:
        """`line` started as root (or self.user) on the host, sudo answered, its input still
        open (the caller sends what it has, then ends it)."""
        markers = sudo.Markers()
        command = RemoteCommand(transport, sudo.sudo_command(line, markers, self.user), timeout, stdin=True)
        job.running(command)  # Ctrl-C reaches it, even while sudo is being answered
        self.become(job, command, spec, markers, timeout, end_input=False)
        return command

    def become(
        self,
        job: Job,
        command: RemoteCommand,
        spec: HostSpec,
        markers: sudo.Markers,
        timeout: float,
        end_input: bool = True,
    ) -> None:
        """Answer the host's sudo for `command` (SudoFailed when it will not run it); the
        command's own clock starts once it runs, so the time spent on the password does not
        count."""
        password = self.password(job, (spec.user, spec.hostname, spec.port))
        try:
            early = sudo.authenticate(command.channel, sudo.SudoDialog(markers), password, timeout)
        except BaseException:
            command.close()
            raise
        command.began(early, end_input)

    def holds(self, question: Question) -> bool:
        """Held until the other hosts have asked too, unless the answer is already known."""
        return question.about not in self.typed

    def answer(self, questions: list[Question], secret: Callable[[str], str]) -> None:
        """Main thread: one question per login user, its answer to every host that asked."""
        by_user: dict[str, list[Question]] = {}
        for question in questions:
            by_user.setdefault(str(question.about), []).append(question)
        for user, asking in by_user.items():
            if user not in self.typed:
                self.typed[user] = self._ask(user, [q.target for q in asking], secret)
            for question in asking:
                question.answer(self.typed[user])

    def _ask(self, user: str, hosts: list[str], secret: Callable[[str], str]) -> str:
        prompt = f"[sudo] password for {user} on {fold(hosts)} (given to every host of this run that asks): "
        try:
            return secret(prompt)
        except CannotAsk:
            raise SudoFailed(
                f"sudo asks for {user}'s password and there is no terminal to ask on",
                "in a script, name a variable holding it with --sudo-password-env VAR",
            ) from None


class HostPassword:
    """One host's sudo password (sudo.SudoPassword): fetched when its sudo asks, kept for the
    session once it worked, forgotten when sudo refused it."""

    def __init__(self, fleet: FleetSudo, key: Key, ask: Callable[..., object]) -> None:
        self.fleet = fleet
        self.key = key
        self.ask = ask
        self.given: str | None = None

    def __call__(self) -> str:
        known = self.fleet.store.known.get(self.key)
        if known is not None:
            self.given = known
        elif self.fleet.env_value is not None:
            self.given = self.fleet.env_value
        else:
            user = self.key[0]
            self.given = str(self.ask("sudo", f"[sudo] password for {user}", about=user))
        return self.given

    def worked(self) -> None:
        if self.given is not None:
            self.fleet.store.known[self.key] = self.given

    def refused(self) -> None:
        self.fleet.store.known.pop(self.key, None)


def fleet_sudo(session: Session, user: str | None, env_var: str | None) -> FleetSudo:
    """On the main thread, before any worker: `--sudo-password-env VAR` must name a set variable."""
    env_value = None
    if env_var:
        env_value = os.environ.get(env_var)
        if env_value is None:
            raise UsageError(
                f"{env_var} is not set", "--sudo-password-env names the variable holding the sudo password"
            )
    return FleetSudo(sudo_passwords(session), user, env_value)
