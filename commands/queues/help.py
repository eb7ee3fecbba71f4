"""`help [VERB]` in queue mode: the verbs with their usage, from the same specs that parse them."""

from __future__ import annotations

from opsh.commands.queues.syntax import VERBS, find_verb
from opsh.shell.result import Result


def mode_help(kind: str, verb: str | None) -> Result:
    if verb:
        return Result.of_text(find_verb(verb).help_text())
    lines = [f"{kind} queue mode (`help VERB` for one verb; `\\q` or `exit` goes back to local):", ""]
    width = max(len(v.usage_line()) for v in VERBS)
    lines += [f"  {v.usage_line().ljust(width)}  {v.summary}" for v in VERBS]
    return Result.of_text("\n".join(lines))
