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
    "redis": (
        Rule(
            "AUTH [user] pass, HELLO 3 AUTH user pass, MIGRATE ... AUTH x",
            r"((?:^|[\s;])AUTH2?\s+(?:(?:\"[^\"]*\"|'[^']*'|[^\s\"']\S*)\s+)?)(\"[^\"]*\"|'[^']*'|\S+)(?=\s*(?:;|$))",
            re.I | re.M,
        ),
        Rule(
            "CONFIG SET [...] requirepass|masterauth x",
            r"(\bCONFIG\s+SET\b[^\n]*?\b(?:requirepass|masterauth)[ \t]+)" + _VALUE,
            re.I,
        ),
    ),
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
