"""`help` inside Redis mode: how the mode works, and one command's syntax from the server's docs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsh.shell.errors import NotFound
from opsh.shell.result import Result

if TYPE_CHECKING:
    from opsh.commands.redis.handle import RedisHandle

MODE_WORDS = {
    "peek": "KEY [N]  (opsh) type, TTL, memory, encoding, length, first N elements",
    "pipe": "FILE  (opsh) send a file of commands in pipelined batches",
    "help": "[COMMAND]  (opsh) syntax and summary of a command",
}

_INTRO = """\
Redis mode: type Redis commands as you would in redis-cli (SET k v, HGETALL h, SCAN 0 MATCH a*).
Quoting: "double quotes" take escapes (\\n \\t \\xHH), 'single quotes' do not; `;` separates
commands. Tab completes command names (with their arguments) and key names.
Replies look like redis-cli's; `\\set format json` gives JSON, and output that is piped or
redirected (`\\| grep x`, `\\> file`) is raw, one value per line (`\\set raw off|on` to choose).
Dangerous commands (FLUSHALL, FLUSHDB, SHUTDOWN, DEL of many keys, KEYS on a big db) ask first.
Ctrl-C stops a blocking command (BLPOP k 0, SUBSCRIBE) and keeps the connection usable.

opsh words in this mode:
{words}

`\\q` goes back to local mode; `\\cmd` runs any opsh command (\\status, \\help connect).
Command docs: {source} ({count} commands)."""


def mode_help(handle: RedisHandle, words: list[str]) -> Result:
    catalog = handle.catalog
    if not words:
        listed = "\n".join(f"  {w} {meta}" for w, meta in MODE_WORDS.items())
        return Result.of_text(_INTRO.format(words=listed, source=catalog.source, count=len(catalog.commands)))
    doc = catalog.get(words)
    if doc is None:
        raise NotFound(f"no help for {' '.join(words)}", f"docs: {catalog.source}; try `help SET`")
    lines = [doc.usage(), ""]
    if doc.summary:
        lines.append(doc.summary)
    facts = [f for f in (doc.group and f"group: {doc.group}", doc.since and f"since: {doc.since}") if f]
    if facts:
        lines.append(", ".join(facts))
    if doc.complexity:
        lines.append(f"complexity: {doc.complexity}")
    return Result.of_text("\n".join(lines))
