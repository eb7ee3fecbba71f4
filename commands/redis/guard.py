"""Asking before the Redis commands that destroy data or stop the server, and read-only handles.

FLUSHALL, FLUSHDB, SHUTDOWN, a password change and DEL of many keys ask for confirmation
(scripts need --yes); KEYS asks only on a large database, where it would block the server
for everyone and SCAN is the right tool. A read-only handle trusts the server's own command
flags (COMMAND INFO) rather than a list of opsh's, so modules' commands are judged too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsh.commands.redis.syntax import command_name, key_text
from opsh.shell.errors import BackendError, ReadOnly, swallowed

if TYPE_CHECKING:
    from opsh.commands.redis.handle import RedisHandle
    from opsh.shell.session import Session

DEL_LIMIT = 10  # DEL/UNLINK of more keys than this asks first
KEYS_LIMIT = 10_000  # KEYS on a database with more keys than this asks first


def confirm(handle: RedisHandle, session: Session, words: list[str]) -> None:
    """Raise ConfirmationRequired unless the user agrees to a dangerous command."""
    question = question_for(handle, words)
    if question:
        session.confirm(question)


def question_for(handle: RedisHandle, words: list[str]) -> str | None:
    """The question to ask before `words`, or None when it needs no confirmation. It reads well
    both as a prompt and after "not confirmed: " in a script's error."""
    name = words[0].upper()
    where = handle.address
    if name == "FLUSHALL":
        return f"FLUSHALL: delete every key of every database on {where}?"
    if name == "FLUSHDB":
        size = handle.ask(["DBSIZE"])
        return f"FLUSHDB: delete all {size:,} keys of db {handle.db} on {where}?"
    if name == "SHUTDOWN" and not any(w.upper() == "ABORT" for w in words[1:]):
        return f"SHUTDOWN: stop the Redis server at {where}?"
    if name in ("DEL", "UNLINK") and len(words) - 1 > DEL_LIMIT:
        return f"{name}: delete {len(words) - 1} keys from db {handle.db} on {where}?"
    if name == "KEYS":
        size = handle.ask(["DBSIZE"])
        if size > KEYS_LIMIT:
            pattern = words[1] if len(words) > 1 else "*"
            return (
                f"KEYS walks all {size:,} keys of db {handle.db} and blocks the server meanwhile "
                f"(`SCAN 0 MATCH {pattern} COUNT 1000` does not): run KEYS anyway?"
            )
    if is_password_change(words):
        return f"CONFIG SET requirepass: change the password of {where} (clients with the old one are refused)?"
    return None


def is_password_change(words: list[str]) -> bool:
    return (
        len(words) >= 4
        and words[0].upper() == "CONFIG"
        and words[1].upper() == "SET"
        and any(w.lower() == "requirepass" for w in words[2::2])
    )


def dangerous_in_file(words: list[str]) -> str | None:
    """What a `pipe` file line would destroy, without asking the server anything."""
    name = words[0].upper()
    if name in ("FLUSHALL", "FLUSHDB", "SHUTDOWN"):
        return name
    if is_password_change(words):
        return "CONFIG SET requirepass"
    return None


def refuse_writes(handle: RedisHandle, words: list[str], where: str = "") -> None:
    """On a read-only handle, raise ReadOnly unless the server's command flags say the
    command only reads; one the server cannot describe is refused too."""
    if not handle.readonly:
        return
    name = command_name(words)
    if name not in handle.flags:
        handle.flags[name] = _command_flags(handle, name)
    flags = handle.flags[name]
    if not flags:
        raise ReadOnly(f"{where}{handle.name} is read-only, and the server does not describe {name}")
    if "write" in flags or name in ("SHUTDOWN", "FLUSHALL", "FLUSHDB", "CONFIG SET"):
        raise ReadOnly(f"{where}{name} writes, and {handle.name} is read-only")


def _command_flags(handle: RedisHandle, name: str) -> frozenset[str]:
    try:
        reply = handle.ask(["COMMAND", "INFO", name.lower().replace(" ", "|")])
    except BackendError:  # an old server, or COMMAND renamed away: the command counts as unknown
        swallowed(f"asking the server what {name} does (COMMAND INFO)")
        return frozenset()
    if not reply or not isinstance(reply[0], list) or len(reply[0]) < 3:
        return frozenset()
    return frozenset(key_text(f).lower() for f in reply[0][2])
