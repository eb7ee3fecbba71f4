"""What a PostgreSQL statement does, before it runs: SQL mode's verdict, corrected where
PostgreSQL differs.

`DO` runs code (MySQL's DO only evaluates), `SELECT ... INTO t` creates a table, `EXPLAIN
ANALYZE` runs its statement, `COPY ... FROM` writes and `COPY ... TO` reads; on a readonly
handle nothing may turn `default_transaction_read_only` off (SET, RESET, set_config, DISCARD).
Whether a read can go through a server-side cursor is decided here too (`declarable`).
"""

from __future__ import annotations

from dataclasses import replace

from opsh.commands.sql.guard import Verdict, classify, classify_tokens
from opsh.commands.sql.postgres.syntax import POSTGRES
from opsh.commands.sql.syntax import Tok, top_level, words

READ_ONLY_SETTINGS = ("default_transaction_read_only", "transaction_read_only")
SESSION_VERBS = frozenset({"listen", "unlisten", "fetch", "move", "close", "deallocate", "prepare", "declare"})
WRITE_WORDS = frozenset({"insert", "update", "delete", "merge", "into"})


def verdict(text: str) -> Verdict:
    toks = words(text, POSTGRES)
    if not toks:
        return Verdict("", "read")
    verb = toks[0].lower
    found = _own(verb, toks) or classify(text, POSTGRES)
    if _lifts_read_only(toks, found):
        return replace(found, refusal="turning default_transaction_read_only off")
    return found


def _own(verb: str, toks: list[Tok]) -> Verdict | None:
    lowered = [t.lower for t in toks if t.kind == "word"]
    if verb == "do":
        return Verdict(verb, "write")
    if verb == "select" and _top_level_into(toks):
        return Verdict(verb, "write", schema_change=True)
    if verb == "explain" and "analyze" in lowered[1:3]:
        rest = [t for t in toks[1:] if t.lower not in ("analyze", "verbose", "(", ")", ",")]
        return replace(classify_tokens(rest), verb="explain") if rest else Verdict(verb, "read")
    if verb == "copy":
        return Verdict(verb, "write" if _copy_from(toks) else "read")
    if verb in SESSION_VERBS or verb == "show":
        return Verdict(verb, "session" if verb != "show" else "read")
    if verb in ("reset", "discard"):
        return Verdict(verb, "session")
    return None


def _lifts_read_only(toks: list[Tok], found: Verdict) -> bool:
    """SET / RESET / set_config() of the read-only settings, RESET ALL, DISCARD ALL."""
    texts = [t.lower.strip("'\"") for t in toks]
    names = any(setting in text for text in texts for setting in READ_ONLY_SETTINGS)
    if names and (found.verb in ("set", "reset") or "set_config" in texts):
        return True
    return found.verb in ("reset", "discard") and "all" in texts


def _top_level_into(toks: list[Tok]) -> bool:
    return any(top_level(toks, "into"))


def _copy_from(toks: list[Tok]) -> bool:
    for _, tok in top_level(toks, "from", "to", start=1):
        return tok.lower == "from"
    return False


def declarable(text: str, found: Verdict) -> bool:
    """Whether the statement can run through `DECLARE ... CURSOR FOR` (psql's FETCH_COUNT rule,
    and a WITH that modifies nothing): a plain query, without INTO or FOR UPDATE / SHARE."""
    if found.kind != "read" or found.verb not in ("select", "values", "table", "with"):
        return False
    lowered = [t.lower for t in words(text, POSTGRES) if t.kind == "word"]
    if found.verb == "with" and WRITE_WORDS & set(lowered):
        return False
    for index, word in enumerate(lowered[:-1]):
        if word == "for" and lowered[index + 1] in ("update", "share", "no", "key"):
            return False
    return "into" not in lowered
