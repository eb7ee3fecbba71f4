"""What the fuzz targets share: garbage words, the expected-failure check, and the tally.

Every target feeds hostile input to one reader of opsh and asserts that nothing but an
OpshError comes out (an OpshError is one clear `error:` line; anything else is an internal
error, a bug). Normally the first other exception fails the test, as hypothesis does.

Counting mode, for the issue's figures (inputs tried, inputs that hit an internal error):

    OPSH_FUZZ_TALLY=/tmp/tally.jsonl OPSH_FUZZ_EXAMPLES=1500 OPSH_FUZZ_EXAMPLES_EACH=200 \
        .venv/bin/python -m pytest tests/fuzz
    .venv/bin/python -m tests.fuzz.garbage /tmp/tally.jsonl

Then nothing raises: every input is recorded (target, ok or the exception's type, the input),
the examples come from a fixed seed (the same inputs for a run before and after a change),
and the second command prints the counts per target.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from opsh.shell.errors import OpshError

TALLY = os.environ.get("OPSH_FUZZ_TALLY")
EXAMPLES = int(os.environ.get("OPSH_FUZZ_EXAMPLES", "300"))  # per parser target
EXAMPLES_EACH = int(os.environ.get("OPSH_FUZZ_EXAMPLES_EACH", "40"))  # per command (about 70 of them)


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,  # the machine is shared: time is not what is checked
        database=None if TALLY else settings.default.database,
        derandomize=bool(TALLY),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )


FUZZ = _settings(EXAMPLES)
FUZZ_EACH = _settings(EXAMPLES_EACH)

# Words people (and fuzzers) throw at a parser: huge numbers, odd digits, control characters,
# brackets, escapes, format directives, option-like words.
NASTY = [
    "9" * 38,
    "9" * 5000,
    "-" + "9" * 5000,
    "1" + "0" * 4400,
    "0x" + "f" * 600,
    "1e99999",
    "-1e308",
    "nan",
    "inf",
    "-0",
    "0",
    "-1",
    "2147483648",
    "18446744073709551616",
    "²",
    "١٢٣",
    "𝟗",
    "Ⅻ",
    "\x00",
    "\x1b[31m",
    "\x7f",
    "\u202e",
    "\ufeff",
    "\t",
    "a" * 5000,
    "x" * 300 + "." + "y" * 70,
    "[",
    "]",
    "[]",
    "a[1-99999999]",
    "a[01-]",
    "a[-3]",
    "a[3-1]",
    "a[1,,2]",
    "[[1-2]]",
    "a[" + "9" * 5000 + "]",
    "a[1-" + "9" * 5000 + "]",
    "web" + "9" * 5000,
    "@",
    "@@",
    "@all",
    "@failed",
    "!",
    "!x",
    "a,,b",
    ",",
    "user@",
    "@user@host",
    "%",
    "%s",
    "%E",
    "%-%",
    "+%",
    "+%Y%",
    "+1" + "9" * 30 + "d",
    "-" + "9" * 30 + "M",
    "\\",
    "\\u{fffffffffffffffff}",
    "${",
    "${x",
    "${}",
    "}",
    "*",
    "**",
    "?",
    "[!a]",
    "-",
    "--",
    "---",
    "=",
    "-=",
    "🚀",
    "é",
    "日本語",
    "CON",
    ".",
    "a/b/c",
    "a/",
    "10.0.0.0/8",
    "::1",
    "[::1]",
    "127.0.0.1-" + "9" * 40,
    "127.0.0.1/" + "9" * 40,
    "1-65535",
    "0-0",
    "65536",
    "ssh,,",
    "1:2:3",
    "2021-02-30",
    "9999-12-31 23:59:59",
    "0000-00-00",
    "@" + "9" * 5000,
    "1" * 19,
]

# Every character except lone surrogates (no terminal or file name can carry them).
CHARS = st.characters(blacklist_categories=("Cs",))


def words(extra: list[str] | None = None) -> st.SearchStrategy[str]:
    """One garbage word: from the list above, the command's own flags, or random text."""
    choices: list[st.SearchStrategy[str]] = [st.sampled_from(NASTY), st.text(CHARS, max_size=40)]
    if extra:
        choices.insert(0, st.sampled_from(extra))
    return st.one_of(*choices)


def check(target: str, data: Any, call: Callable[[], object], expected: tuple[type[BaseException], ...] = ()) -> None:
    """Run `call`; an OpshError (or one of `expected`) is a clean refusal, anything else fails
    the test (or, counting, is written to the tally)."""
    outcome = "ok"
    try:
        call()
    except (OpshError, *expected):
        pass
    except Exception as exc:  # noqa: BLE001 - this is what is being looked for
        if not TALLY:
            raise
        outcome = _describe(exc)
    if TALLY:
        with open(TALLY, "a", encoding="utf-8") as out:
            out.write(json.dumps({"target": target, "outcome": outcome, "input": repr(data)[:300]}) + "\n")


def _describe(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__}: {str(cause)[:120]}"


def summary(path: str) -> str:
    """Counts per target from a tally file: inputs tried, inputs that failed, by exception."""
    tried: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = {}
    with open(path, encoding="utf-8") as tally:
        for line in tally:
            row = json.loads(line)
            tried[row["target"]] += 1
            if row["outcome"] != "ok":
                failed[row["target"]] += 1
                kind = row["outcome"].split(":")[0]
                kinds.setdefault(row["target"], Counter())[kind] += 1
    lines = [f"{'target':34} {'inputs':>7} {'failures':>8}  exceptions"]
    for target in sorted(tried):
        found = ", ".join(f"{k} {n}" for k, n in kinds.get(target, Counter()).most_common())
        lines.append(f"{target:34} {tried[target]:7} {failed[target]:8}  {found}")
    lines.append(f"{'total':34} {sum(tried.values()):7} {sum(failed.values()):8}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(sys.argv[1]))
