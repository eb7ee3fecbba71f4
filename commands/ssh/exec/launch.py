"""What `run` and `copy` settle on the main thread before a fan-out's first worker starts,
built in this one place for both, and what their consumers of the fan-out share.

The cancellation state (the fan-out's Control) comes first: the prompter (questions from
workers), the connect options (sockets being opened) and the fan-out all hold that same
object, so a Ctrl-C reaches each of them, and the work given to the fan-out can be made from
a finished plan instead of referring to one that does not exist yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opsh.commands.shared.fanout.control import Control, Delegate, Job
from opsh.commands.shared.fanout.engine import FanOut
from opsh.commands.shared.fanout.events import Handler, Question
from opsh.commands.ssh.exec.outcome import HostResult, failed_host, host_error
from opsh.commands.ssh.hosts import lookup
from opsh.commands.ssh.state import ssh_state
from opsh.commands.ssh.transport import openfiles, setup
from opsh.commands.ssh.transport.prompting import QueuedPrompter

if TYPE_CHECKING:
    from opsh.commands.ssh.exec.fleetsudo import FleetSudo
    from opsh.commands.ssh.hosts.hostspec import HostSpec
    from opsh.commands.ssh.transport.conn import ConnectOptions
    from opsh.commands.ssh.transport.pool import ConnectionPool
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
    pool: ConnectionPool
    notes: list[str] = field(default_factory=list)  # for the status line (a raised limit...)

    def start(
        self, work: Callable[[Job], HostResult], fanout: int, delegate: Delegate | None = None, warm: int = 0
    ) -> FanOut[HostResult]:
        """`warm`: hosts with a kept connection run that many at a time besides `fanout`
        (see FanOut); 0 for work that is costly on a kept connection too (copies)."""
        self._make_room(fanout)
        fan = FanOut(
            self.labels,
            work,
            failed_host,
            fanout,
            self.control,
            explain=host_error,
            delegate=delegate,
            warm=self._is_warm,
            warm_fanout=warm,
        )
        fan.start(self.background)
        return fan

    def status_notes(self) -> list[str]:
        """What the command did to fit in the open-files limit, for its own status line: the
        connections it closed for room are counted here, not by the next command."""
        notes = list(self.notes)
        evicted = self.pool.take_evicted()
        if evicted:
            notes.append(f"{evicted} least recently used connections closed for room (open-files limit)")
        return notes

    def _is_warm(self, label: str) -> bool:
        spec = self.specs.get(label)
        return spec is not None and self.pool.peek(spec.pool_key) is not None

    def _make_room(self, fanout: int) -> None:
        """The open-files limit raised if the hosts need it, and the pool bounded by it (a
        command on a kept connection needs no descriptor of its own: `warm` is not counted)."""
        running = fanout
        kept = len(self.pool) + sum(1 for s in self.specs.values() if self.pool.peek(s.pool_key) is None)
        raised = openfiles.make_room(kept, running)
        if raised:
            self.notes.append(raised)
        self.pool.capacity = openfiles.capacity(running)
        if kept > self.pool.capacity:
            self.notes.append(
                f"the open-files limit keeps {self.pool.capacity} connections open: the least recently used are closed"
            )


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
    return Launch(labels, specs, control, prompter, options, session.background, ssh_state(session).pool)
