"""One target's share of `--on TARGETS`, run by the fan-out engine in a worker thread.

An open handle is used itself (it is one connection, and only its worker touches it while the
main thread waits); a [connections.NAME] entry that is not open gets a fresh connection,
opened here and closed when its answer is in. The statement goes through the handle's own
checks, so readonly refusals and danger questions are per target. Ctrl-C cancels the running
statement with the handle's cancel() (KILL QUERY on a side connection for MySQL, dropping the
connection for Redis, closing cursors for Mongo), and closes a fresh connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsh.commands.shared.many.merge import Settled, settle
from opsh.shell.connect import open_connection
from opsh.shell.errors import Cancelled, swallowed

if TYPE_CHECKING:
    from opsh.commands.shared.fanout.control import Job
    from opsh.commands.shared.many.targets import Backend
    from opsh.shell.handles import Handle
    from opsh.shell.session import Session

CLEANUP = 5.0  # after Ctrl-C: how long cancelled statements have to come back


@dataclass
class Answer:
    """One target's outcome: its result read to the end in the worker, or why it failed."""

    target: str
    result: Settled | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def failed_target(target: str, error: str) -> Answer:
    """The answer of a target whose statement raised, or never ran (the fan-out's `failed`)."""
    return Answer(target, error=error)


def answer_on(session: Session, backend: Backend, statement: Any, job: Job) -> Answer:
    """The statement on `job.target`; a statement cut short by Ctrl-C is no answer (a killed
    SLEEP answers 1), whatever it returned."""
    answer = Answer(job.target)
    handle = session.handles.get(job.target)
    owned = handle is None
    try:
        if handle is None:
            handle = _open(session, job.target)
        job.running(Statement(handle, owned))
        if job.cancelled():
            raise Cancelled("cancelled")
        answer.result = settle(backend.run(session, handle, statement))
        if job.cancelled():
            answer.result, answer.error = None, "cancelled"
    finally:
        if owned and handle is not None:
            _close(handle)
    return answer


def _open(session: Session, name: str) -> Handle:
    """A fresh connection for a config entry: the config's URL, readonly, tag and password
    (password_env, else the relayed hidden prompt); never added to the session."""
    return open_connection(session, name)


class Statement:
    """A running statement as the fan-out stops it (its Running)."""

    def __init__(self, handle: Handle, owned: bool) -> None:
        self.handle = handle
        self.owned = owned

    def interrupt(self) -> None:
        try:
            self.handle.cancel()
        except Exception:  # noqa: BLE001 - cancelling one target must not stop cancelling the others
            swallowed(f"cancelling the statement on {self.handle.name}")
        if self.owned:
            _close(self.handle)

    def kill(self) -> None:
        """Nothing is harder than cancel(): the worker reports when the driver returns."""


def _close(handle: Handle) -> None:
    try:
        handle.close()
    except Exception:  # noqa: BLE001 - close() must not raise, but a driver may
        swallowed(f"closing the fan-out connection to {handle.name}")
