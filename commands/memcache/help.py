"""`help` in memcache mode: every verb with its usage, or one verb's."""

from __future__ import annotations

from opsh.commands.memcache.syntax import VERBS
from opsh.shell.errors import NotFound
from opsh.shell.result import Result


def mode_help(args: list[str]) -> Result:
    if args:
        verb = VERBS.get(args[0].lower())
        if verb is None:
            raise NotFound(f"no memcache verb {args[0]!r}")
        return Result.of_text(f"{args[0].lower()} {verb.usage}\n\n{verb.summary}")
    width = max(len(f"{n} {v.usage}") for n, v in VERBS.items())
    lines = ["memcache mode: memcached's text protocol verbs (`\\q` back to local, `\\cmd` for opsh).", ""]
    lines += [f"  {f'{n} {v.usage}'.ljust(width)}  {v.summary}" for n, v in VERBS.items()]
    return Result.of_text("\n".join(lines))
