"""What `run` and `copy` settle on the main thread before a fan-out's first worker starts,
built in this one place for both, and what their consumers of the fan-out share.

The cancellation state (the fan-out's Control) comes first: the prompter (questions from
workers), the connect options (sockets being opened) and the fan-out all hold that same
object, so a Ctrl-C reaches each of them, and the work given to the fan-out can be made from
a finished plan instead of referring to one that does not exist yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsh.commands.shared.fanout.control import Control, Delegate, Job
from opsh.commands.shared.fanout.engine import FanOut
from opsh.commands.shared.fanout.events import Handler, Question
from opsh.commands.ssh.exec.outcome import HostResult, failed_host, host_error
from opsh.commands.ssh.hosts import lookup
from opsh.commands.ssh.state import ssh_state
from opsh.commands.ssh.transport import setup
from opsh.commands.ssh.transport.prompting import QueuedPrompter

if TYPE_CHECKING:
    from opsh.commands.ssh.exec.fleetsudo import FleetSudo
    from opsh.commands.ssh.hosts.hostspec import HostSpec
    from opsh.commands.ssh.transport.conn import ConnectOptions
    from opsh.shell.background import Background
    from opsh.shell.session import Session


@dataclass
class Launch:
    labels: list[str]
    specs: dict[str, HostSpec]  # by label; `local` has none
    control: Control
    prompter: QueuedPrompter
    options: ConnectOptions
    background: Background  # the session's: workers still connecting are joined at exit

    def start(
        self, work: Callable[[Job], HostResult], fanout: int, delegate: Delegate | None = None
    ) -> FanOut[HostResult]:
        fan = FanOut(self.labels, work, failed_host, fanout, self.control, explain=host_error, delegate=delegate)
        fan.start(self.background)
        return fan


class HostEvents(Handler[HostResult]):
    """What every consumer of a host fan-out does alike (run's printer and gatherer, copy's
    progress): the workers' questions are asked through the run's prompter. Login passwords
    are asked as they come; unknown host keys are held and asked about together (one table,
    one answer); sudo passwords are held and asked once per login user (fleetsudo.py)."""

    def __init__(self, prompter: QueuedPrompter, sudo: FleetSudo | None = None) -> None:
        self.prompter = prompter
        self.sudo = sudo

    def holds(self, question: Question) -> bool:
        if question.kind == "sudo":
            return self.sudo is not None and self.sudo.holds(question)
        return question.kind == "trust"

    def ev_question(self, questions: list[Question]) -> None:
        self.before_asking()
        kind = questions[0].kind
        if kind == "trust":
            self.prompter.answer_keys(questions)
        elif kind == "sudo" and self.sudo is not None:
            self.sudo.answer(questions, self.prompter.ask_secret)
        else:
            for question in questions:
                self.prompter.answer(question)

    def before_asking(self) -> None:
        """A consumer that draws something (a progress bar) takes it off the screen here."""


def prepare(
    session: Session, labels: list[str], timeout: float, accept_new: bool, direct: list[str] | None = None
) -> Launch:
    """Stale pooled connections closed, HostSpecs resolved, keys decrypted (passphrases asked
    now), one password shared by the hosts that want one. `direct`: the labels opsh connects
    to itself, when some of `labels` go through gateways instead (resolved there, not here)."""
    ssh_state(session).pool.expire(setup.persist(session))
    control = Control()
    prompter = QueuedPrompter(session, control)
    specs = lookup.specs_for(session, labels if direct is None else direct)
    setup.prepare_keys(session, specs.values())
    options = setup.connect_options(session, prompter, timeout, accept_new, shared=True, cancel=control.cancel)
    control.on_cancel.append(options.cancel_all)
    return Launch(labels, specs, control, prompter, options, session.background)
