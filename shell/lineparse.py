"""Reading a typed line: quoting, `${var}` expansion, `;` chaining and redirections.

The tokenizer keeps each token's position in the source, so the same pass serves parsing,
completion (which token is the cursor in?) and highlighting. Operators (`;`, `|`, `>`, `>>`)
are only operators when unquoted and unescaped: `echo 'a;b'` is one command.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from opsh.shell.errors import UsageError

OPERATORS = (">>", ">", "|", ";")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# lookup(name, default) -> value; default is None when the line gave no `:-default`.
Lookup = Callable[[str, "str | None"], str]


@dataclass(frozen=True)
class Token:
    """One word or operator: `text` is the value after quotes and expansion."""

    text: str
    start: int
    end: int
    quoted: bool = False
    op: bool = False


@dataclass(frozen=True)
class Redirect:
    """Where a statement's output goes instead of the screen."""

    kind: str  # ">", ">>" or "|"
    target: str


class _Scanner:
    """Single pass over the source; `partial` tolerates unfinished input (for completion)."""

    def __init__(self, source: str, lookup: Lookup | None, partial: bool) -> None:
        self.src = source
        self.lookup = lookup
        self.partial = partial
        self.pos = 0
        self.tokens: list[Token] = []

    def run(self) -> list[Token]:
        src = self.src
        while self.pos < len(src):
            ch = src[self.pos]
            if ch.isspace():
                self.pos += 1
            elif ch == "#":
                break  # a comment runs to the end of the line
            elif src.startswith(">>", self.pos):
                self._op(">>")
            elif ch in ">|;":
                self._op(ch)
            else:
                self._word()
        return self.tokens

    def _op(self, text: str) -> None:
        self.tokens.append(Token(text, self.pos, self.pos + len(text), op=True))
        self.pos += len(text)

    def _word(self) -> None:
        src, start = self.src, self.pos
        parts: list[str] = []
        quoted = False
        while self.pos < len(src):
            ch = src[self.pos]
            if ch.isspace() or ch in ">|;":
                break
            if ch == "'":
                quoted = True
                parts.append(self._single_quoted())
            elif ch == '"':
                quoted = True
                parts.append(self._double_quoted())
            elif ch == "\\":
                parts.append(self._escape())
            elif src.startswith("${", self.pos):
                parts.append(self._variable())
            else:
                parts.append(ch)
                self.pos += 1
        self.tokens.append(Token("".join(parts), start, self.pos, quoted=quoted))

    def _escape(self) -> str:
        self.pos += 1
        if self.pos >= len(self.src):
            return "\\"
        ch = self.src[self.pos]
        self.pos += 1
        return ch

    def _single_quoted(self) -> str:
        end = self.src.find("'", self.pos + 1)
        if end < 0:
            return self._unclosed("'")
        text = self.src[self.pos + 1 : end]
        self.pos = end + 1
        return text

    def _double_quoted(self) -> str:
        self.pos += 1
        parts: list[str] = []
        while self.pos < len(self.src):
            ch = self.src[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(parts)
            if ch == "\\" and self.pos + 1 < len(self.src) and self.src[self.pos + 1] in '"\\$':
                parts.append(self.src[self.pos + 1])
                self.pos += 2
            elif self.src.startswith("${", self.pos):
                parts.append(self._variable())
            else:
                parts.append(ch)
                self.pos += 1
        return "".join(parts) + self._unclosed('"')

    def _unclosed(self, quote: str) -> str:
        if not self.partial:
            raise UsageError(f"unclosed quote {quote}", "close it, or escape it with a backslash")
        text = self.src[self.pos + 1 :]
        self.pos = len(self.src)
        return text

    def _variable(self) -> str:
        end = self.src.find("}", self.pos + 2)
        if end < 0:
            if self.partial:
                text = self.src[self.pos :]
                self.pos = len(self.src)
                return text
            raise UsageError("unclosed ${", "write ${name} or ${name:-default}")
        body = self.src[self.pos + 2 : end]
        raw = self.src[self.pos : end + 1]
        self.pos = end + 1
        if self.lookup is None:
            return raw
        return expand_one(body, self.lookup)


def expand_one(body: str, lookup: Lookup) -> str:
    """The value of `name` or `name:-default` (the text between `${` and `}`)."""
    name, sep, default = body.partition(":-")
    if not _VAR_NAME.fullmatch(name):
        raise UsageError(f"bad variable name: ${{{body}}}", "names are letters, digits and _")
    return lookup(name, default if sep else None)


def tokenize(source: str, lookup: Lookup | None = None, partial: bool = False) -> list[Token]:
    """Tokens of `source`; without `lookup`, `${...}` stays as written."""
    return _Scanner(source, lookup, partial).run()


def expand_text(source: str, lookup: Lookup) -> str:
    """Expand `${...}` anywhere in raw text (backend modes, `!cmd`); `\\${` stays literal."""
    out: list[str] = []
    pos = 0
    while True:
        found = source.find("${", pos)
        if found < 0:
            out.append(source[pos:])
            return "".join(out)
        if found > 0 and source[found - 1] == "\\":
            out.append(source[pos : found - 1] + "${")
            pos = found + 2
            continue
        end = source.find("}", found + 2)
        if end < 0:
            raise UsageError("unclosed ${", "write ${name} or ${name:-default}")
        out.append(source[pos:found])
        out.append(expand_one(source[found + 2 : end], lookup))
        pos = end + 1


def expand_for_shell(source: str, lookup: Lookup) -> str:
    """Expand `${...}` in a line a POSIX shell will run (`!cmd`, SSH mode) so that each value
    stays one literal word: quoted for where it stands (bare, inside '...' or inside "..."), a
    value like `$(touch F)` or `; rm x` is text, never shell syntax."""
    out: list[str] = []
    quote = ""
    pos = 0
    while pos < len(source):
        ch = source[pos]
        if source.startswith("\\${", pos):
            out.append("${")
            pos += 3
        elif ch == "\\" and quote != "'":
            out.append(source[pos : pos + 2])
            pos += 2
        elif source.startswith("${", pos):
            end = source.find("}", pos + 2)
            if end < 0:
                raise UsageError("unclosed ${", "write ${name} or ${name:-default}")
            out.append(_shell_quoted(expand_one(source[pos + 2 : end], lookup), quote))
            pos = end + 1
        else:
            if ch in "'\"" and quote in ("", ch):
                quote = "" if quote else ch
            out.append(ch)
            pos += 1
    return "".join(out)


def expand_redirect(redirect: Redirect, lookup: Lookup) -> Redirect:
    """`${...}` in a redirect target still as written: after `|` each value is one quoted word
    for the shell (as in a `!` line: a value cannot add a `;` or a `$(...)`), in a file name it
    is the value as it is."""
    if redirect.kind == "|":
        return Redirect("|", expand_for_shell(redirect.target, lookup))
    return Redirect(redirect.kind, expand_text(redirect.target, lookup))


def _shell_quoted(value: str, quote: str) -> str:
    if quote == "'":
        return value.replace("'", "'\\''")
    if quote == '"':
        return "".join("\\" + c if c in '\\$`"' else c for c in value)
    import shlex

    return shlex.quote(value) if value else "''"


def split_first(source: str) -> tuple[str, str]:
    """(first statement, rest) at the first unquoted `;`; a `!` line is never split."""
    statement, rest, _ = split_first_at(source)
    return statement, rest


def continues(line: str) -> bool:
    """Whether a physical line goes on on the next one: it ends in an odd number of
    backslashes (`\\\\` is a literal backslash) and is not a `#` comment. The one rule for typed,
    piped, `-c` and script input alike."""
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1 and not line.lstrip().startswith("#")


def join_continued(text: str) -> str:
    """`text` with every continued line joined to the next (the backslash and the newline
    go, as in a POSIX shell: `echo a \\` + `b` is `echo a b`)."""
    if "\\\n" not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    carry = ""
    for line in lines[:-1]:
        if continues(carry + line):
            carry += line[:-1]
        else:
            out.append(carry + line)
            carry = ""
    out.append(carry + lines[-1])
    return "\n".join(out)


def split_first_at(source: str) -> tuple[str, str, str]:
    """(first statement, rest, ";" or "") so callers can tell `a;` from `a` (a `!` line ends
    at a newline, "\n", and is never split at `;`)."""
    if source.lstrip().startswith("!"):
        statement, newline, rest = source.partition("\n")
        return statement, rest, newline
    try:
        tokens = tokenize(source, None, partial=True)
    except UsageError:
        return source, "", ""
    for tok in tokens:
        if tok.op and tok.text == ";":
            return source[: tok.start], source[tok.end :], ";"
    return source, "", ""


def extract_redirect(tokens: list[Token], source: str) -> tuple[list[Token], Redirect | None]:
    """Separate a trailing `> file`, `>> file` or `| command` from the command's own tokens."""
    for index, tok in enumerate(tokens):
        if not tok.op:
            continue
        if tok.text == "|":
            command = source[tok.end :].strip()
            if not command:
                raise UsageError("nothing after |", "write `| local-command`")
            return tokens[:index], Redirect("|", command)
        if tok.text in (">", ">>"):
            rest = tokens[index + 1 :]
            if not rest or rest[0].op:
                raise UsageError(f"missing file name after {tok.text}")
            if len(rest) > 1 and not (rest[1].op and rest[1].text == "|"):
                raise UsageError(f"unexpected {rest[1].text!r} after the redirection")
            return tokens[:index], Redirect(tok.text, rest[0].text)
    return tokens, None


_QUOTES = "'\"`"


def split_backslash_redirect(statement: str) -> tuple[str, Redirect | None]:
    """Split `STATEMENT \\> file`, `\\>> file` or `\\| cmd` (any mode), ignoring quoted text."""
    body, redirect = find_backslash_redirect(statement)
    if redirect is not None and not redirect.target:
        raise UsageError(f"missing target after \\{redirect.kind}")
    return body, redirect


def find_backslash_redirect(statement: str) -> tuple[str, Redirect | None]:
    """Like split_backslash_redirect, but never raises: while a line is being typed (statement
    splitting, completion) an empty target is not an error yet; the Engine checks it."""
    start = _backslash_redirect_at(statement)
    if start is None:
        return statement, None
    return statement[:start].rstrip(), redirect_from(statement[start:])


def redirect_from(text: str) -> Redirect:
    """The Redirect that `text` (starting at its `\\>`, `\\>>` or `\\|`) asks for, for modes
    that find where it starts with their own quoting rules (SQL dialects)."""
    kind = ">>" if text.startswith(">>", 1) else text[1]
    target = text[1 + len(kind) :].strip()
    return Redirect(kind, target if kind == "|" else _unquote(target))


def _backslash_redirect_at(statement: str) -> int | None:
    quote = ""
    i = 0
    while i < len(statement):
        ch = statement[i]
        if quote:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in _QUOTES:
            quote = ch
        elif ch == "\\" and statement.startswith((">", "|"), i + 1):
            return i
        i += 1
    return None


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def quote_word(text: str) -> str:
    """`text` as one word of an opsh line (what `tokenize` reads back as `text`): in double
    quotes, else in single ones, else double with backslashes."""
    if '"' not in text and "\\" not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
