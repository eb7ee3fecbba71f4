"""What a typed Redis command is: its name (a container's subcommand included), whether it
blocks by design, and how key names are written.

The words themselves come from opsh.shell.syntax.words (redis-cli's quoting, shared with
memcache mode); statements are split by the base Handle (`;` or a newline outside quotes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Container commands whose second word is a subcommand (`CONFIG GET`, `CLIENT LIST`).
CONTAINERS = frozenset(
    [
        "ACL",
        "CLIENT",
        "CLUSTER",
        "COMMAND",
        "CONFIG",
        "FUNCTION",
        "LATENCY",
        "MEMORY",
        "MODULE",
        "OBJECT",
        "PUBSUB",
        "SCRIPT",
        "SLOWLOG",
        "XGROUP",
        "XINFO",
    ]
)
# Commands that wait for data by design: no read timeout for them (Ctrl-C ends the wait).
_BLOCKING = frozenset(
    ["BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF"]
)


def command_name(words: Sequence[str]) -> str:
    """`GET`, or `CONFIG SET` for a container command."""
    first = words[0].upper()
    if first in CONTAINERS and len(words) > 1:
        return f"{first} {words[1].upper()}"
    return first


def is_blocking(args: Sequence[Any]) -> bool:
    """Whether the command waits for data by design, so no read timeout applies to it."""
    name = str(args[0]).upper()
    if name in _BLOCKING:
        return True
    if name in ("XREAD", "XREADGROUP"):
        return any(str(a).upper() == "BLOCK" for a in args)
    return name == "DEBUG" and len(args) > 1 and str(args[1]).upper() == "SLEEP"


def key_text(key: Any) -> str:
    """A key as the shell shows and sends it (undecodable bytes kept as surrogate escapes)."""
    return key.decode("utf-8", "surrogateescape") if isinstance(key, bytes) else str(key)
