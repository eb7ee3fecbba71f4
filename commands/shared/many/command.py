"""`sql|redis|mongo --on TARGETS ...`: what the three backends' commands call when `--on`
names more than one handle, or a configured connection that is not open."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from opsh.commands.shared.fanout.engine import FanOut
from opsh.commands.shared.many.asking import Asking, Relay
from opsh.commands.shared.many.merge import present, status_line
from opsh.commands.shared.many.targets import Backend, many_state, resolve
from opsh.commands.shared.many.work import CLEANUP, Answer, answer_on, failed_target
from opsh.shell.result import Result

if TYPE_CHECKING:
    from opsh.shell.session import Session
    from opsh.shell.spec import Args

# `--on` with any of these is a fan-out even when it names one handle (`--on @shards`).
_FAN_MARKS = ("[", ",", "@", "!")


def is_fan_out(session: Session, expression: str | None, excludes: list[str] | None) -> bool:
    """Whether `--on EXPR` means many targets: target syntax, -x, or a configured connection
    that is not an open handle. A plain open handle's name keeps the one-handle command."""
    if not expression:
        return False
    if excludes or any(mark in expression for mark in _FAN_MARKS):
        return True
    return expression not in session.handles and expression in session.config.connections


def fan_out(
    session: Session,
    backend: Backend,
    expression: str,
    statement: Any,
    *,
    excludes: list[str] | None = None,
    fanout: int | None = None,
    fmt: str | None = None,
    group: bool = False,
) -> Result:
    """Run `statement` on every target in parallel and present the answers as one Result;
    @failed / @ok of this backend name the targets afterwards."""
    names = resolve(session, backend, expression, excludes)
    work = partial(answer_on, session, backend, statement)
    fan = FanOut(names, work, failed_target, fanout or int(session.settings.get("fanout")), cleanup=CLEANUP)
    answers = _run(session, fan)
    many_state(session).last[backend.area] = fan.outcome()
    chosen = fmt or str(session.settings.get("format"))
    result = present(answers, chosen, group, status_line(answers, fan.seconds, fan.interrupted))
    result.interrupted = fan.interrupted
    return forced(result, fmt)


def _run(session: Session, fan: FanOut[Answer]) -> list[Answer]:
    """The fan-out with `session.io` relaying the workers' questions to this thread."""
    inner = session.io
    session.io = Relay(inner, fan.control)
    try:
        fan.start(session.background)
        fan.wait(Asking(inner, fan.targets))
    finally:
        session.io = inner
    return fan.ordered()


def fan_out_line(
    session: Session, backend: Backend, args: Args, statement: Any, default_format: str | None = None
) -> Result:
    """`fan_out` with what `many_options` parsed from the line; `default_format` applies when
    the line gave no --format (SQL's `\\G`)."""
    return fan_out(
        session,
        backend,
        args.on,
        statement,
        excludes=args.exclude,
        fanout=args.fanout,
        fmt=args.format or default_format,
        group=args.group,
    )


def forced(result: Result, fmt: str | None) -> Result:
    """`--format` of the line for every part of the chain, applied as each part comes (a
    SQL handle's later result sets are read only when the renderer gets to them; the last
    one may hand back nothing)."""
    if not fmt:
        return result
    result.force_format = fmt
    following = result.then
    if following is not None:

        def then() -> Result | None:
            later = following()
            return forced(later, fmt) if later is not None else None

        result.then = then
    return result


__all__ = ["Backend", "fan_out", "fan_out_line", "forced", "is_fan_out"]
