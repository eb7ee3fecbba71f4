"""What `run` and `copy` settle on the main thread before a fan-out's first worker starts,
built in this one place for both.

The cancellation state (fanout.Control) comes first: the prompter (questions from workers),
the connect options (sockets being opened) and the fan-out all hold that same object, so a
Ctrl-C reaches each of them, and the work given to the fan-out can be made from a finished
plan instead of referring to one that does not exist yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsh.commands.ssh.exec.fanout import Control, FanOut, Work
from opsh.commands.ssh.hosts import lookup
from opsh.commands.ssh.state import ssh_state
from opsh.commands.ssh.transport import setup
from opsh.commands.ssh.transport.prompting import QueuedPrompter

if TYPE_CHECKING:
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

    def start(self, work: Work, fanout: int) -> FanOut:
        fan = FanOut(self.labels, work, fanout, self.control, self.prompter)
        fan.start(self.background)
        return fan


def prepare(session: Session, labels: list[str], timeout: float, accept_new: bool) -> Launch:
    """Stale pooled connections closed, HostSpecs resolved, keys decrypted (passphrases asked
    now), one password shared by the hosts that want one."""
    ssh_state(session).pool.expire(setup.persist(session))
    control = Control()
    prompter = QueuedPrompter(session, control.events, control.cancel)
    specs = lookup.specs_for(session, labels)
    setup.prepare_keys(session, specs.values())
    options = setup.connect_options(session, prompter, timeout, accept_new, shared=True, cancel=control.cancel)
    control.on_cancel.append(options.cancel_all)
    return Launch(labels, specs, control, prompter, options, session.background)
