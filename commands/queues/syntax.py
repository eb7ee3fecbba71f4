"""The queue mode's verbs, declared like opsh commands so one spec drives parsing, help and completion,
and how a line binds to them (the data of `put` is relaxed JSON when it parses).

They are not registered in the shell's command registry (local `delete` or `stats` would mean
something else); the queue handle looks them up here. A trailing free-text parameter (the
data of `put`, the Lua of `eval`) is taken verbatim from the line, so `put jobs {"to": "a"}`
keeps its quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opsh.shell import kinds
from opsh.shell.argv import FORMATS
from opsh.shell.errors import UsageError
from opsh.shell.lineparse import Token, tokenize
from opsh.shell.spec import Args, Command, Kind, Param, arg, opt
from opsh.shell.syntax.rjson import RJsonError, parse_value


def _verb(name: str, summary: str, params: tuple[Param, ...] = (), **kw: object) -> type[Command]:
    attrs = {"name": name, "summary": summary, "area": "queue", "params": params, **kw}
    return type(f"Queue{name.title()}Verb", (Command,), attrs)


TUBE = arg("tube", Kind.TEXT, help="queue (tube) name")
TASK = arg("id", Kind.TEXT, help="task id (as shown by put/take; TUBE:ID when ambiguous)")

VERBS: tuple[type[Command], ...] = (
    _verb(
        "put",
        "add a task: data is JSON if it parses (relaxed: {a: 1}), else text",
        (
            TUBE,
            arg("data", Kind.REST, help="the task data, rest of the line"),
            opt("--delay", kind=Kind.DURATION, help="ready only after this long"),
            opt("--ttl", kind=Kind.DURATION, help="discard the task if not taken within this time"),
            opt("--pri", kind=Kind.INT, help="priority, 0 first (tarantool)"),
        ),
        examples=("put emails {to: 'ops@example.com'}", "put jobs 'resize 42' --delay 30s"),
    ),
    _verb(
        "take",
        "take the next task (reliably: ack or release it later); waits up to TIMEOUT",
        (TUBE, arg("timeout", Kind.DURATION, required=False, default=0.0, help="how long to wait (0: do not wait)")),
        examples=("take emails", "take emails 30s"),
    ),
    _verb("ack", "mark a taken task done", (TASK,), aliases=("finish",), examples=("ack 7",)),
    _verb(
        "release",
        "put a taken task back (first in line, or after --delay)",
        (TASK, opt("--delay", kind=Kind.DURATION, help="ready again only after this long")),
        aliases=("abort",),
        examples=("release 7", "release emails:7 --delay 1m"),
    ),
    _verb(
        "peek",
        "show the next ready task of a tube, or one task by id, without taking it",
        (arg("target", Kind.TEXT, metavar="TUBE|ID", help="a tube name or a task id"),),
        examples=("peek emails", "peek 7"),
    ),
    _verb("bury", "set a task aside (not taken again until kicked)", (TASK,), examples=("bury 7",)),
    _verb(
        "kick",
        "make up to N buried tasks of a tube ready again",
        (TUBE, arg("count", Kind.INT, required=False, default=1, help="how many")),
        examples=("kick emails 10",),
    ),
    _verb("delete", "remove a task, whatever its state", (TASK,), examples=("delete 7",)),
    _verb(
        "stats",
        "task counts per tube, or every figure of one tube",
        (arg("tube", Kind.TEXT, required=False, help="one tube"),),
        examples=("stats", "stats emails"),
    ),
    _verb("tubes", "list the tubes (queues) the server knows", examples=("tubes",)),
    _verb(
        "call",
        "call a stored function (tarantool); arguments are relaxed JSON or words",
        (arg("function", Kind.TEXT, help="function name"), arg("args", Kind.REST, required=False)),
        examples=("call box.info", "call queue.statistics emails"),
    ),
    _verb(
        "select",
        "rows of a space (tarantool), optionally by key",
        (
            arg("space", Kind.TEXT, help="space name"),
            arg("key", Kind.REST, required=False, help="key value(s)"),
            opt("--limit", kind=Kind.INT, default=100, help="at most this many rows"),
        ),
        examples=("select emails", "select users 42", "select emails --limit 10"),
    ),
    _verb(
        "eval",
        "run Lua on the server (tarantool) and show what it returns",
        (arg("lua", Kind.REST, help="Lua code, rest of the line"),),
        examples=("eval return box.info.version", "eval return box.space.emails:len()"),
    ),
    _verb("help", "the queue mode's verbs, or one verb's usage", (arg("verb", Kind.TEXT, required=False),)),
    _verb("exit", "leave the queue mode (back to local)", aliases=("quit",)),
)

BY_NAME: dict[str, type[Command]] = {name: verb for verb in VERBS for name in verb.all_names()}


def find_verb(name: str) -> type[Command]:
    verb = BY_NAME.get(name)
    if verb is None:
        import difflib

        close = difflib.get_close_matches(name, list(BY_NAME), n=2)
        hint = f"did you mean {' or '.join(close)}?" if close else "type `help` for the verbs"
        raise UsageError(f"unknown queue verb: {name}", hint)
    return verb


@dataclass
class Line:
    """A parsed queue line: the verb, its arguments and the generic --format/--yes."""

    verb: type[Command]
    args: Args
    fmt: str | None = None
    yes: bool = False


def parse_line(source: str) -> Line | None:
    """Tokens bound to the verb's spec; options may come before or after positionals."""
    tokens = tokenize(source)
    if not tokens:
        return None
    verb = find_verb(tokens[0].text)
    options = {flag: p for p in verb.params if p.is_option for flag in p.flags}
    positionals: list[Token] = []
    args = Args()
    line = Line(verb, args)
    index = 1
    while index < len(tokens):
        tok = tokens[index]
        index += 1
        flag, eq, value = tok.text.partition("=")
        if tok.quoted or not (flag in options or flag in ("--format", "--yes")):
            if not tok.quoted and flag.startswith("--") and not _in_rest(verb, positionals):
                raise UsageError(f"{verb.name}: unknown option {flag}", f"usage: {verb.usage_line()}")
            positionals.append(tok)
            continue
        if flag == "--yes":
            line.yes = True
            continue
        if not eq:
            if index >= len(tokens):
                raise UsageError(f"{flag} needs a value")
            value = tokens[index].text
            index += 1
        if flag == "--format":
            if value not in FORMATS:
                raise UsageError(f"--format: {value!r} is not one of {', '.join(FORMATS)}")
            line.fmt = value
        else:
            param = options[flag]
            args[param.name] = kinds.convert(param, value)
    # The tokenizer stops at a `#` starting a word (a shell comment); in free text (`eval return
    # #t`, `put jobs issue #42`) that `#` and what follows belong to the text.
    after = source[tokens[-1].end :]
    tail = (source.index("#", tokens[-1].end), len(source.rstrip())) if after.strip() else None
    _bind_positionals(verb, positionals, source, args, tail)
    for param in verb.params:
        if param.is_option and param.name not in args:
            args[param.name] = param.default
    return line


def _in_rest(verb: type[Command], positionals: list[Token]) -> bool:
    """Whether the next positional is the free text at the end (where `--x` is data)."""
    plain = [p for p in verb.params if not p.is_option]
    return bool(plain) and plain[-1].kind is Kind.REST and len(positionals) >= len(plain) - 1


def _bind_positionals(
    verb: type[Command], tokens: list[Token], source: str, args: Args, tail: tuple[int, int] | None
) -> None:
    params = [p for p in verb.params if not p.is_option]
    for index, param in enumerate(params):
        if param.kind is Kind.REST:
            args[param.name] = raw_text(tokens[index:], source, tail)
            if param.required and not args[param.name]:
                raise UsageError(f"{verb.name}: missing {param.label()}", f"usage: {verb.usage_line()}")
            return
        if index >= len(tokens):
            if param.required:
                raise UsageError(f"{verb.name}: missing {param.label()}", f"usage: {verb.usage_line()}")
            args[param.name] = param.default
            continue
        args[param.name] = kinds.convert(param, tokens[index].text)
    if len(tokens) > len(params):
        extra = tokens[len(params)].text
        raise UsageError(f"{verb.name}: unexpected argument {extra!r}", f"usage: {verb.usage_line()}")


class RawText(str):
    """Free text from the line; `quoted` when it was one quoted word (so it stays a string)."""

    quoted: bool = False


def raw_text(tokens: list[Token], source: str, tail: tuple[int, int] | None = None) -> RawText:
    """The text those tokens span, as typed, up to the end of `tail` (the untokenized rest of
    the line) when there is one; one quoted token alone gives its unquoted text."""
    if tail is not None:
        start = tokens[0].start if tokens else tail[0]
        return RawText(source[start : tail[1]])
    if not tokens:
        return RawText("")
    if len(tokens) == 1 and tokens[0].quoted:
        text = RawText(tokens[0].text)
        text.quoted = True
        return text
    return RawText(source[tokens[0].start : tokens[-1].end])


def parse_data(text: str) -> Any:
    """Relaxed JSON when the whole text parses as a value ({a: 1}, [1, 2], 42), else the text.

    One quoted word ('42', "a b") is always a string."""
    if getattr(text, "quoted", False):
        return str(text)
    stripped = text.strip()
    if not stripped:
        raise UsageError("put: missing DATA", "e.g. put emails {to: 'ops@example.com'}")
    try:
        return parse_value(stripped)
    except RJsonError:
        if stripped[0] in "{[":
            raise
        return text
