"""What a statement does, before it runs: read or write, schema change, and whether to ask first.

A readonly handle refuses everything that is not known to be a read (an unknown verb counts as
a write), and the statements people regret (DROP, TRUNCATE, DELETE or UPDATE without WHERE,
ALTER ... DROP) are confirmed first. Only code words count: a `DROP` inside a string or a
comment is not a drop, and a WHERE inside a subquery does not make an UPDATE safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsh.commands.sql.syntax import Dialect, Tok, first_token, top_level, words
from opsh.shell.errors import ReadOnly

if TYPE_CHECKING:
    from opsh.shell.session import Session

READ_VERBS = frozenset(
    {"select", "show", "describe", "desc", "explain", "values", "table", "help", "do", "check", "checksum"}
)
TX_VERBS = frozenset({"begin", "start", "commit", "rollback", "savepoint", "release", "end", "xa"})
SCHEMA_VERBS = frozenset({"create", "alter", "drop", "rename", "truncate", "attach", "detach"})
DML_VERBS = ("select", "insert", "update", "delete", "replace", "values", "table")
# Verbs whose verdict the verb alone decides: a dump's INSERT of a megabyte is not read through.
PLAIN_WRITES = frozenset({"insert", "replace"})


@dataclass(frozen=True)
class Verdict:
    """The verdict on one statement."""

    verb: str  # first code word, lower case ("" for an empty statement)
    kind: str  # read | write | tx | session
    danger: str | None = None  # why to ask first, e.g. "no WHERE: deletes every row"
    schema_change: bool = False
    refusal: str | None = None  # set when a readonly handle must not run it even though kind says so

    @property
    def is_read(self) -> bool:
        return self.kind in ("read", "tx", "session") and self.refusal is None


def classify(text: str, dialect: Dialect) -> Verdict:
    first = first_token(text, dialect)
    if first is not None and first.kind == "word" and first.lower in PLAIN_WRITES:
        return Verdict(first.lower, "write")
    toks = words(text, dialect)
    if not toks:
        return Verdict("", "read")
    verb = toks[0].lower
    if verb == "with":
        return _with(toks)
    if verb in ("explain", "describe", "desc"):
        return Verdict(verb, "read")
    if verb == "analyze":
        return _analyze(toks)
    if verb in READ_VERBS:
        return _read(verb, toks)
    if verb in TX_VERBS:
        return _transaction(verb, toks)
    if verb == "use":
        return Verdict(verb, "session")
    if verb == "set":
        return _set(toks)
    if verb == "pragma":
        return Verdict(verb, "session" if any(t.text == "=" for t in toks) else "read")
    return Verdict(verb, "write", _danger(verb, toks), verb in SCHEMA_VERBS)


def _read(verb: str, toks: list[Tok]) -> Verdict:
    lowered = [t.lower for t in toks if t.kind == "word"]
    if verb == "select" and "into" in lowered:
        # SELECT ... INTO OUTFILE / DUMPFILE writes a file on the server; INTO @var does not.
        after = lowered[lowered.index("into") + 1 : lowered.index("into") + 2]
        if after and after[0] in ("outfile", "dumpfile"):
            return Verdict(verb, "write")
    return Verdict(verb, "read")


def _with(toks: list[Tok]) -> Verdict:
    """A CTE is as harmful as the statement it leads to: WITH ... DELETE is a delete."""
    for index, _ in top_level(toks, *DML_VERBS, start=1):
        inner = classify_tokens(toks[index:])
        return Verdict("with", inner.kind, inner.danger, inner.schema_change)
    return Verdict("with", "read")


def _analyze(toks: list[Tok]) -> Verdict:
    """MariaDB's ANALYZE <statement> runs the statement; ANALYZE TABLE updates statistics."""
    if len(toks) > 1 and toks[1].lower in DML_VERBS:
        inner = classify_tokens(toks[1:])
        return Verdict("analyze", inner.kind, inner.danger, inner.schema_change)
    return Verdict("analyze", "write")


def classify_tokens(toks: list[Tok]) -> Verdict:
    verb = toks[0].lower
    if verb in READ_VERBS:
        return _read(verb, toks)
    return Verdict(verb, "write", _danger(verb, toks))


def _transaction(verb: str, toks: list[Tok]) -> Verdict:
    lowered = [t.lower for t in toks]
    # START TRANSACTION READ WRITE would lift a readonly handle's server-side guard.
    refusal = "a read-write transaction" if "write" in lowered else None
    return Verdict(verb, "tx", refusal=refusal)


def _set(toks: list[Tok]) -> Verdict:
    lowered = [t.lower for t in toks]
    if "transaction" in lowered and "write" in lowered:
        return Verdict("set", "session", refusal="a read-write transaction")
    if "global" in lowered or any(t.startswith("@@global") for t in lowered) or "password" in lowered:
        return Verdict("set", "write")
    return Verdict("set", "session")


def _danger(verb: str, toks: list[Tok]) -> str | None:
    if verb == "drop":
        return "cannot be undone"
    if verb == "truncate":
        return "deletes every row"
    if verb == "delete" and not _top_level(toks, "where"):
        return "no WHERE: deletes every row"
    if verb == "update" and not _top_level(toks, "where"):
        return "no WHERE: changes every row"
    if verb == "alter" and _top_level(toks, "drop"):
        return "drops part of the table"
    return None


def _top_level(toks: list[Tok], word: str) -> bool:
    return any(top_level(toks, word))


def check(session: Session, handle_name: str, readonly: bool, verdict: Verdict, text: str) -> None:
    """Refuse a write on a readonly handle; ask before a dangerous statement."""
    if readonly and not verdict.is_read:
        what = verdict.refusal or f"{verdict.verb.upper()} statements"
        raise ReadOnly(
            f"{handle_name} is readonly: {what} refused",
            "reconnect without --readonly (or set readonly = false in the config) to write",
        )
    if verdict.danger:
        session.confirm(f"Run `{_abbreviate(text)}` on {handle_name} ({verdict.danger})?")


def _abbreviate(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
