"""Remove secrets from text before it is stored or shown.

History, recordings, logs and error messages all pass through `redact()`: a password typed
once must never come back from disk. The rules err on the side of hiding too much.
"""

from __future__ import annotations

import functools
import re

MASK = "***"


def _rule(pattern: str, flags: int = 0) -> tuple[str, int]:
    return pattern, flags


# Each rule keeps group 1 (the context) and replaces the rest of the match with the mask.
_RULE_SOURCES: tuple[tuple[str, int], ...] = (
    # scheme://user:password@host
    _rule(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(?=@)"),
    # --password X, --password=X, --passphrase X, --token X, --secret X
    _rule(r"(--(?:password|passwd|pass|passphrase|token|secret|api-key|auth)(?:=|\s+))(\"[^\"]*\"|'[^']*'|\S+)", re.I),
    # mysql-style -pSECRET (directly attached), only on a mysql client command line
    _rule(r"(\b(?:mysql|mariadb|mysqldump|mysqladmin|mariadb-dump|mariadb-admin)\b[^\n;|]*?\s-p)(?!\s)(\S+)"),
    # SQL: IDENTIFIED BY 'x', PASSWORD('x'), PASSWORD = 'x'
    _rule(r"(\bIDENTIFIED\s+(?:WITH\s+\S+\s+)?(?:BY|AS)\s+)('[^']*'|\"[^\"]*\"|\S+)", re.I),
    _rule(r"(\bPASSWORD\s*\(\s*)('[^']*'|\"[^\"]*\")", re.I),
    _rule(r"(\bPASSWORD\s*=\s*)('[^']*'|\"[^\"]*\"|\S+)", re.I),
    # Redis: AUTH [user] pass, HELLO 3 AUTH user pass, CONFIG SET requirepass x, MIGRATE ... AUTH x
    _rule(
        r"((?:^|[\s;])AUTH2?\s+(?:(?:\"[^\"]*\"|'[^']*'|[^\s\"']\S*)\s+)?)(\"[^\"]*\"|'[^']*'|\S+)(?=\s*(?:;|$))",
        re.I | re.M,
    ),
    _rule(r"(\brequirepass\s+)(\"[^\"]*\"|'[^']*'|\S+)", re.I),
    _rule(r"(\bmasterauth\s+)(\"[^\"]*\"|'[^']*'|\S+)", re.I),
    # set db_password VALUE, set API_TOKEN VALUE (opsh variables that look secret)
    _rule(r"((?:^|[\s;\\])set\s+\w*(?:pass|secret|token|apikey|api_key)\w*\s+)(.+?)(?=\s*(?:;|$))", re.I | re.M),
    # mongo documents: {pwd: 'x'}, {"pwd": "x"}, {password: 'x'} (createUser, updateUser)
    _rule(r"(\b(?:pwd|password)[\"']?\s*:\s*)(\"[^\"]*\"|'[^']*')", re.I),
    # key=value pairs in URLs and option strings: password=, pwd=, token=
    _rule(r"(\b(?:password|passwd|pwd|token|secret|sshpass)=)([^&\s;]+)", re.I),
)


@functools.cache
def _rules() -> tuple[re.Pattern[str], ...]:
    """Compiled on first use: compiling them all at import would cost startup time."""
    return tuple(re.compile(pattern, flags) for pattern, flags in _RULE_SOURCES)


def redact(text: str) -> str:
    """Return `text` with every recognised secret replaced by ***."""
    for rule in _rules():
        text = rule.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact_url(url: str) -> str:
    """A URL with its password removed entirely (for display and handle endpoints)."""
    return re.sub(r"(://[^/\s:@]*):[^@\s/]*@", r"\1@", url)
