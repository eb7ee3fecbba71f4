"""Remove secrets from text before it is stored or shown.

History, recordings, transcripts (statements, their output and errors), logs and error
messages all pass through this one table: a password typed once must never come back from
disk. The rules err on the side of hiding too much.

`RULES` is the table of secret-bearing syntax, in groups; each rule keeps its group 1 (the
context) and masks the rest of its match. `OUTPUT_RULES` name the statements whose *output*
carries secrets (`CONFIG GET requirepass`), and how to find them in it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

MASK = "***"

# A value as the rules see it: quoted either way, or one word.
_VALUE = r"(\"[^\"]*\"|'[^']*'|\S+)"
_QUOTED = r"('[^']*'|\"[^\"]*\")"


@dataclass(frozen=True)
class Rule:
    """One piece of secret-bearing syntax: `syntax` says what it covers, for the reader."""

    syntax: str
    pattern: str
    flags: int = 0


RULES: dict[str, tuple[Rule, ...]] = {
    "urls": (
        Rule("scheme://user:password@host", r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(?=@)"),
    ),
    "options": (
        Rule(
            "--password X, --password=X, --passphrase, --token, --secret, --api-key, --auth",
            r"(--(?:password|passwd|pass|passphrase|token|secret|api-key|auth)(?:=|\s+))" + _VALUE,
            re.I,
        ),
        Rule(
            "mysql -pSECRET (attached, on a mysql client command line)",
            r"(\b(?:mysql|mariadb|mysqldump|mysqladmin|mariadb-dump|mariadb-admin)\b[^\n;|]*?\s-p)(?!\s)(\S+)",
        ),
    ),
    "sql": (
        Rule("IDENTIFIED [WITH plugin] BY|AS 'x'", r"(\bIDENTIFIED\s+(?:WITH\s+\S+\s+)?(?:BY|AS)\s+)" + _VALUE, re.I),
        Rule("IDENTIFIED VIA plugin USING 'x'", r"(\bIDENTIFIED\s+VIA\s+\S+\s+USING\s+)" + _QUOTED, re.I),
        Rule("PASSWORD('x'), OLD_PASSWORD('x')", r"(\bPASSWORD\s*\(\s*)" + _QUOTED, re.I),
        Rule("SET PASSWORD = 'x', PASSWORD = 'x'", r"(\bPASSWORD\s*=\s*)" + _VALUE, re.I),
        Rule(
            "CHANGE MASTER TO MASTER_PASSWORD='x', CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD='x'",
            r"(\b\w+_PASSWORD\s*=\s*)" + _VALUE,
            re.I,
        ),
        Rule(
            "CREATE ROLE ... PASSWORD 'x', CREATE SERVER ... OPTIONS (PASSWORD 'x')", r"(\bPASSWORD\s+)" + _QUOTED, re.I
        ),
    ),
    # Redis commands are masked by argument position, not by a pattern: see the Redis group
    # below (redact_redis), applied before these rules.
    "redis": (),
    "mongo": (
        Rule(
            "{pwd: 'x'}, {\"password\": \"x\"} (createUser, updateUser)",
            r"(\b(?:pwd|password)[\"']?\s*:\s*)" + _QUOTED,
            re.I,
        ),
        Rule("db.auth('user', 'x')", r"(\bdb\.auth\s*\(\s*(?:'[^']*'|\"[^\"]*\")\s*,\s*)" + _QUOTED),
        Rule(
            "db.changeUserPassword('user', 'x')",
            r"(\bchangeUserPassword\s*\(\s*(?:'[^']*'|\"[^\"]*\")\s*,\s*)" + _QUOTED,
        ),
    ),
    "opsh": (
        Rule(
            "set db_password VALUE, set API_TOKEN VALUE (variables that look secret)",
            r"((?:^|[\s;\\])set\s+\w*(?:pass|secret|token|apikey|api_key)\w*\s+)(.+?)(?=\s*(?:;|$))",
            re.I | re.M,
        ),
    ),
    # Last: the rules above mask quoted values whole, which this one would cut at a space.
    "pairs": (
        Rule(
            "password=x, pwd=x, token=x, secret=x in URL queries and option strings",
            r"(\b(?:password|passwd|pwd|token|secret|sshpass)=)([^&\s;]+)",
            re.I,
        ),
    ),
}


@dataclass(frozen=True)
class OutputRule:
    """Statements whose output shows secrets: after a line (or a field) naming one of `names`,
    the value is masked, in every format opsh prints (raw lines, `1) "name"`, tables, JSON)."""

    syntax: str
    statement: str
    names: str
    flags: int = re.I


OUTPUT_RULES: tuple[OutputRule, ...] = (
    OutputRule(
        "Redis CONFIG GET requirepass / masterauth / * (the reply holds the passwords)",
        r"^\s*\\?CONFIG\s+GET\b",
        r"requirepass|masterauth|[\w-]*pass(?:word)?|[\w-]*secret[\w-]*",
    ),
)

# Password hashes are as good as passwords for some logins: MySQL's native `*` + 40 hex.
_HASHES = r"(?<![\w*])\*[0-9A-F]{40}\b"


@functools.cache
def _rules() -> tuple[re.Pattern[str], ...]:
    """Compiled on first use: compiling them all at import would cost startup time."""
    return tuple(re.compile(rule.pattern, rule.flags) for group in RULES.values() for rule in group)


def redact(text: str) -> str:
    """Return `text` with every recognised secret replaced by ***."""
    text = redact_redis(text)
    for rule in _rules():
        text = rule.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact_url(url: str) -> str:
    """A URL with its password removed entirely (for display and handle endpoints)."""
    return re.sub(r"(://[^/\s:@]*):[^@\s/]*@", r"\1@", url)


def redact_output(statement: str, output: str) -> str:
    """A statement's output as a transcript may keep it: the input rules (output often echoes
    a statement), password hashes, and the values that OUTPUT_RULES say `statement` shows."""
    if not output:
        return output
    text = re.sub(_HASHES, MASK, redact(output))
    for rule in OUTPUT_RULES:
        if re.search(rule.statement, statement, rule.flags):
            text = _mask_named_values(text, re.compile(rule.names, rule.flags))
    return text


# `name` alone on its line (raw, `1) "name"`, `| name |`): the value is on the next line.
_NAME_ALONE = r"^\s*(?:\d+\)\s*)?[\"'|]?\s*(?:{names})\s*[\"'|]?\s*$"
# `name value`, `| name | value |`, `"name": "value"`, `name = value`: the value follows.
_NAME_THEN_VALUE = (
    r"((?:^|(?<=[\s{{,|\"']))(?:{names})[\"']?(?:[ \t]*[|:=,][ \t]*|[ \t]+))"
    r"(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s|,}}]+)"
)
_VALUE_LINE = r"^(\s*(?:\d+\)\s*)?)(.+?)$"


def _mask_named_values(text: str, names: re.Pattern[str]) -> str:
    alone = re.compile(_NAME_ALONE.format(names=names.pattern), names.flags)
    paired = re.compile(_NAME_THEN_VALUE.format(names=names.pattern), names.flags)
    out: list[str] = []
    value_next = False
    for line in text.split("\n"):
        if value_next:
            value_next = False
            if line.strip():
                out.append(re.sub(_VALUE_LINE, lambda m: m.group(1) + MASK, line, count=1))
                continue
        if alone.match(line):
            value_next = True
            out.append(line)
            continue
        out.append(paired.sub(lambda m: m.group(1) + MASK, line))
    return "\n".join(out)


# ---------------------------------------------------------------- Redis: by argument position
#
# The commands redis-cli keeps out of its history (isSensitiveCommand in redis-cli.c): AUTH,
# ACL SETUSER, CONFIG SET masterauth/masteruser/requirepass (and the TLS key passphrases),
# HELLO ... AUTH user pass, MIGRATE ... AUTH pass / AUTH2 user pass. opsh keeps the line but
# masks the secret words, found by their position in the command (its words split with
# redis-cli's quoting), wherever the command sits on a line (`SET a 1; AUTH x`). The same
# for `redis-cli -a PASS` / `--pass PASS` on a shell line.

REDIS_CONFIG_SECRETS = frozenset(
    {"requirepass", "masterauth", "masteruser", "tls-key-file-pass", "tls-client-key-file-pass"}
)
_ACL_SECRET_RULES = ">" + "<" + "#" + "!"  # add/remove a password, add/remove a password hash


def redis_secret_words(words: list[str]) -> dict[int, str]:
    """{index: what replaces the word} for the secret words of one Redis command."""
    if not words:
        return {}
    name = words[0].upper()
    sub = words[1].upper() if len(words) > 1 else ""
    if name == "AUTH":
        return {len(words) - 1: MASK} if len(words) in (2, 3) else dict.fromkeys(range(1, len(words)), MASK)
    if name == "ACL" and sub == "SETUSER":
        return {i: w[0] + MASK for i, w in enumerate(words) if i > 2 and w[:1] and w[0] in _ACL_SECRET_RULES}
    if name == "CONFIG" and sub == "SET":
        return {i + 1: MASK for i in range(2, len(words) - 1, 2) if words[i].lower() in REDIS_CONFIG_SECRETS}
    if name == "HELLO":
        return _hello_secrets(words)
    if name == "MIGRATE":
        return _migrate_secrets(words)
    return _redis_cli_secrets(words)


def _hello_secrets(words: list[str]) -> dict[int, str]:
    """HELLO [protover [AUTH username password] [SETNAME clientname]]"""
    index = 2
    while index < len(words):
        option = words[index].upper()
        if option == "AUTH":
            return {index + 2: MASK} if index + 2 < len(words) else dict.fromkeys(range(index + 1, len(words)), MASK)
        index += 2 if option == "SETNAME" else 1
    return {}


def _migrate_secrets(words: list[str]) -> dict[int, str]:
    """MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS key ...]"""
    for index in range(6, len(words)):
        option = words[index].upper()
        if option == "AUTH" and index + 1 < len(words):
            return {index + 1: MASK}
        if option == "AUTH2" and index + 2 < len(words):
            return {index + 2: MASK}
        if option == "KEYS":
            break
    return {}


def _redis_cli_secrets(words: list[str]) -> dict[int, str]:
    """`redis-cli -a PASS` or `--pass PASS`, anywhere in a shell line (`!redis-cli ...`, `run`)."""
    if not any(w.lstrip("!\\").rsplit("/", 1)[-1] == "redis-cli" for w in words):
        return {}
    return {i + 1: MASK for i, w in enumerate(words[:-1]) if w in ("-a", "--pass")}


def redact_redis(text: str) -> str:
    """`text` with the secret words of every Redis command in it masked (statements are split
    at `;` and newlines outside quotes, as Redis mode splits them)."""
    if not _MAYBE_REDIS.search(text):
        return text
    out: list[str] = []
    pos = 0
    for words, spans in _redis_statements(text):
        for index, replacement in sorted(redis_secret_words(words).items()):
            if index < len(spans):
                span_start, span_end = spans[index]
                out.append(text[pos:span_start] + replacement)
                pos = span_end
    out.append(text[pos:])
    return "".join(out)


_MAYBE_REDIS = re.compile(r"\b(?:AUTH2?|SETUSER|CONFIG|HELLO|MIGRATE|redis-cli)\b", re.I)


def _redis_statements(text: str) -> list[tuple[list[str], list[tuple[int, int]]]]:
    """(words, their spans in `text`) of each statement; never raises (an unclosed quote runs
    to the end of the text)."""
    statements = []
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch in ";\n":
            statements.append((words, spans))
            words, spans = [], []
            pos += 1
        elif ch.isspace():
            pos += 1
        else:
            end, word = _redis_word(text, pos)
            words.append(word)
            spans.append((pos, end))
            pos = end
    statements.append((words, spans))
    return statements


def _redis_word(text: str, pos: int) -> tuple[int, str]:
    """(end, unquoted text) of the word at `pos`, with redis-cli's quotes (simplified: escapes
    are kept as written; only the word's bounds and its plain spelling matter here)."""
    parts: list[str] = []
    while pos < len(text) and not text[pos].isspace() and text[pos] != ";":
        ch = text[pos]
        if ch in "\"'":
            close = pos + 1
            while close < len(text) and text[close] != ch:
                close += 2 if text[close] == "\\" else 1
            parts.append(text[pos + 1 : min(close, len(text))])
            pos = min(close + 1, len(text))
        else:
            parts.append(ch)
            pos += 1
    return pos, "".join(parts)
