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
    # (Redis commands are masked by argument position: see the Redis group below.)
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
    text = redact_redis(text)
    for rule in _rules():
        text = rule.sub(lambda m: m.group(1) + MASK, text)
    return text


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


def redact_url(url: str) -> str:
    """A URL with its password removed entirely (for display and handle endpoints)."""
    return re.sub(r"(://[^/\s:@]*):[^@\s/]*@", r"\1@", url)
