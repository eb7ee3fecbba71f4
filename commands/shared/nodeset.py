"""Host name ranges: `web[01-20]` and `db[1,3,5-7]` expanded, and lists folded back into them.

Expansion is what target expressions are made of; folding is how `run --group` names the
hosts that printed the same thing (`web[01-03,05]`), as ClusterShell's nodesets do. Both
are pure string work, tested on their own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

from opsh.shell.errors import UsageError

MAX_HOSTS = 100_000  # an expansion larger than this is a typo, not a fleet
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_LAST_NUMBER = re.compile(r"^(.*?)([0-9]{1,18})([^0-9]*)$")  # ASCII digits of a size int() takes at once
_BOUND = re.compile(r"^[0-9]{1,18}$")


def expand(pattern: str) -> list[str]:
    """Every name `pattern` stands for, in order: `n[1-3]x` -> n1x, n2x, n3x."""
    if "[" not in pattern and "]" not in pattern:
        return [pattern]
    pieces: list[list[str]] = []
    pos = 0
    for match in _BRACKET.finditer(pattern):
        pieces.append([pattern[pos : match.start()]])
        pieces.append(_range_values(match.group(1), pattern))
        pos = match.end()
    tail = pattern[pos:]
    if "[" in tail or "]" in tail or any("[" in p[0] or "]" in p[0] for p in pieces[::2]):
        raise UsageError(f"unbalanced brackets in {_short(pattern)!r}", "write e.g. web[01-20] or db[1,3,5-7]")
    pieces.append([tail])
    total = 1
    for values in pieces:
        total *= len(values)
    if total > MAX_HOSTS:
        raise UsageError(f"{_short(pattern)!r} expands to {total} names", f"at most {MAX_HOSTS}")
    return ["".join(parts) for parts in itertools.product(*pieces)]


def _range_values(body: str, pattern: str) -> list[str]:
    """`01-03,7` -> 01 02 03 7 (the width of a zero-padded lower bound is kept)."""
    values: list[str] = []
    for item in body.split(","):
        item = item.strip()
        low, dash, high = item.partition("-")
        if not _BOUND.match(low) or (dash and not _BOUND.match(high)):
            shown = body if len(body) <= 40 else body[:37] + "..."
            raise UsageError(f"bad range [{shown}] in {_short(pattern)!r}", "use numbers: [1-5], [01-20], [1,3,5-7]")
        if not dash:
            values.append(low)
            continue
        start, end = int(low), int(high)
        if end < start:
            raise UsageError(f"range {item} in {_short(pattern)!r} goes backwards")
        if end - start >= MAX_HOSTS:
            raise UsageError(f"range {item} in {_short(pattern)!r} is too large", f"at most {MAX_HOSTS} names")
        width = len(low) if low.startswith("0") and len(low) > 1 else 0
        values.extend(str(n).zfill(width) for n in range(start, end + 1))
        if len(values) > MAX_HOSTS:
            raise UsageError(f"[{body[:40]}] in {_short(pattern)!r} is too large", f"at most {MAX_HOSTS} names")
    return values


def natural_key(name: str) -> list[object]:
    """Sort key that puts web2 before web10 and 127.0.0.9 before 127.0.0.10. A number is
    compared by (length without leading zeros, digits): the order of its value, for numbers of
    any length (int() refuses 5000 digits), and every key has the same shape."""
    parts: list[object] = []
    for index, part in enumerate(re.split(r"([0-9]+)", name)):
        if index % 2:
            significant = part.lstrip("0")
            parts.append((len(significant), significant, len(part)))
        else:
            parts.append(part)
    return parts


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def fold(names: Iterable[str]) -> str:
    """The shortest usual spelling of `names`: web01 web02 web03 db1 -> db1,web[01-03]."""
    groups: dict[tuple[str, str, int], list[int]] = {}
    singles: list[str] = []
    unpadded: list[tuple[str, str, str]] = []
    for name in dict.fromkeys(names):
        match = _LAST_NUMBER.match(name)
        if not match:
            singles.append(name)
            continue
        prefix, digits, suffix = match.groups()
        if digits.startswith("0") and len(digits) > 1:
            groups.setdefault((prefix, suffix, len(digits)), []).append(int(digits))
        else:
            unpadded.append((prefix, digits, suffix))
    for prefix, digits, suffix in unpadded:
        # 100 joins node[001-099] (same width); 7 stays with other unpadded numbers
        key = (prefix, suffix, len(digits)) if (prefix, suffix, len(digits)) in groups else (prefix, suffix, 0)
        groups.setdefault(key, []).append(int(digits))
    parts = [(name, name) for name in singles]
    for (prefix, suffix, width), numbers in groups.items():
        numbers = sorted(set(numbers))
        if len(numbers) == 1:
            text = f"{prefix}{str(numbers[0]).zfill(width)}{suffix}"
        else:
            text = f"{prefix}[{_ranges(numbers, width)}]{suffix}"
        parts.append((f"{prefix}{str(numbers[0]).zfill(width)}{suffix}", text))
    parts.sort(key=lambda p: natural_key(p[0]))
    return ",".join(text for _, text in parts)


def _ranges(numbers: list[int], width: int) -> str:
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        low, high = str(start).zfill(width), str(prev).zfill(width)
        out.append(low if start == prev else f"{low}-{high}")
        if n is not None:
            start = prev = n
    return ",".join(out)


def split_top(text: str, separator: str = ",") -> list[str]:
    """Split at `separator` outside brackets: `a[1,2],b` -> `a[1,2]`, `b`."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts
