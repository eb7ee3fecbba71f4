"""What a memcache handle refuses or asks first: writes on a read-only handle, and flush_all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsh.shell.errors import ReadOnly

if TYPE_CHECKING:
    from opsh.shell.session import Session

WRITES = frozenset(
    ("set", "add", "replace", "append", "prepend", "cas", "delete", "incr", "decr", "touch", "flush_all")
)


def refuse_writes(readonly: bool, verb: str, handle_name: str) -> None:
    if readonly and verb in WRITES:
        raise ReadOnly(f"{verb} writes, and {handle_name} is read-only")


def confirm_flush(session: Session, address: str, delay: int) -> None:
    """flush_all empties the whole server for every client: scripts need --yes."""
    when = f" in {delay}s" if delay else ""
    session.confirm(f"flush_all: invalidate every item on {address}{when}?")
