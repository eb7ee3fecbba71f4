"""What a read-only queue handle refuses: every verb that changes a queue (`call` and `eval`
can change anything, so they count as writes)."""

from __future__ import annotations

from opsh.shell.errors import ReadOnly

WRITE_VERBS = frozenset({"put", "take", "ack", "release", "bury", "kick", "delete", "call", "eval"})


def refuse_writes(readonly: bool, verb: str) -> None:
    if readonly and verb in WRITE_VERBS:
        raise ReadOnly(f"{verb} refused: this handle is read-only")
