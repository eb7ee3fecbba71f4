"""Which open handle a command means when it works on one kind of handle from anywhere
(`sql`, `redis peek`, `mongo`...): the one named with `--on`, else the current one, else the
only one of that kind.

One function and one wording, so that `sql`, `redis` and `mongo` answer a missing or
ambiguous handle alike:

    error: cache is redis, not SQL (open SQL handles: shop, stats)
    error: no Redis handle is open (connect redis://host:6379/0 first)
    error: several Mongo handles are open (pick one with --on: app, logs)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from opsh.shell.errors import NotFound, UsageError

if TYPE_CHECKING:
    from opsh.shell.handles import Handle
    from opsh.shell.session import Session


def pick_handle(
    session: Session,
    name: str | None,
    label: str,
    accepts: Callable[[Handle], bool],
    examples: Sequence[str],
) -> Handle:
    """The handle named `name`, else the current one, else the only open one that `accepts`.

    `label` is how messages call the kind ("SQL"); `examples` are URLs that open one, for the
    hint when none is open.
    """
    found = [h for h in session.handles.values() if accepts(h)]
    if name:
        handle = session.handle(name)
        if not accepts(handle):
            raise UsageError(f"{name} is {handle.kind}, not {label}", _where(label, found, examples))
        return handle
    current = session.current_handle
    if current is not None and accepts(current):
        return current
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(f"no {label} handle is open", _where(label, found, examples))
    raise UsageError(f"several {label} handles are open", f"pick one with --on: {_names(found)}")


def _where(label: str, found: list[Handle], examples: Sequence[str]) -> str:
    """Where a handle of the kind is: the open ones, else how to open one."""
    if found:
        return f"open {label} handles: {_names(found)}"
    return f"connect {' or '.join(examples)} first"


def _names(handles: list[Handle]) -> str:
    return ", ".join(h.name for h in handles)
