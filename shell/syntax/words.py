"""Splitting a typed line into words with redis-cli's quoting rules (Redis and memcache modes).

`"..."` takes escapes (`\\n \\r \\t \\b \\a \\\\ \\" \\xHH`), `'...'` only `\\'`; a closing quote
must end the word. A `\\xHH` above 0x7f becomes a surrogate escape, so the argument is sent
as that exact byte (the connection encodes with `surrogateescape`).
"""

from __future__ import annotations

from opsh.shell.errors import UsageError

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}
_HEX = "0123456789abcdefABCDEF"


def split_args(line: str) -> list[str]:
    """The arguments of one command line; a UsageError for unbalanced quotes."""
    if '"' not in line and "'" not in line:
        return line.split()
    return _Splitter(line, partial=False).words()


def split_partial(line: str) -> tuple[list[str], str, int]:
    """(finished words, the word being typed, its length as typed) for completion."""
    splitter = _Splitter(line, partial=True)
    words = splitter.words()
    if not words or line[-1].isspace() and not splitter.open_quote:
        return words, "", 0
    return words[:-1], words[-1], len(line) - splitter.last_start


class _Splitter:
    def __init__(self, line: str, partial: bool) -> None:
        self.line = line
        self.partial = partial
        self.pos = 0
        self.open_quote = False
        self.last_start = 0

    def words(self) -> list[str]:
        out: list[str] = []
        line = self.line
        while True:
            while self.pos < len(line) and line[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(line):
                return out
            self.last_start = self.pos
            out.append(self._word())

    def _word(self) -> str:
        line = self.line
        parts: list[str] = []
        while self.pos < len(line) and not line[self.pos].isspace():
            ch = line[self.pos]
            if ch in "\"'":
                parts.append(self._quoted(ch))
                if self.pos < len(line) and not line[self.pos].isspace() and not self.partial:
                    raise UsageError("a closing quote must be followed by a space", 'write "a b" c, not "a b"c')
            else:
                parts.append(ch)
                self.pos += 1
        return "".join(parts)

    def _quoted(self, quote: str) -> str:
        line = self.line
        self.pos += 1
        parts: list[str] = []
        while self.pos < len(line):
            ch = line[self.pos]
            if ch == quote:
                self.pos += 1
                return "".join(parts)
            if ch == "\\" and self.pos + 1 < len(line):
                parts.append(self._escape(quote))
                continue
            parts.append(ch)
            self.pos += 1
        if not self.partial:
            raise UsageError(f"unbalanced quotes ({quote})", "close the quote; inside it, \\ escapes a quote")
        self.open_quote = True
        return "".join(parts)

    def _escape(self, quote: str) -> str:
        line = self.line
        nxt = line[self.pos + 1]
        if quote == "'":
            self.pos += 2 if nxt == "'" else 1
            return "'" if nxt == "'" else "\\"
        hexdigits = line[self.pos + 2 : self.pos + 4]
        if nxt == "x" and len(hexdigits) == 2 and all(c in _HEX for c in hexdigits):
            self.pos += 4
            value = int(hexdigits, 16)
            return chr(value) if value < 0x80 else chr(0xDC00 + value)
        self.pos += 2
        return _ESCAPES.get(nxt, nxt)
