"""Random values: integers, floats, picks from a list, samples, passwords, UUIDs, strings.

Everything draws from the operating system's generator (`secrets.SystemRandom`): nothing to
seed, nothing predictable, and a picked host or a generated password come from the same
source. One value prints as plain text; `--count N` gives a one-column table.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from opsh.shell.errors import UsageError
from opsh.shell.fileread import read_text
from opsh.shell.result import Result
from opsh.shell.session import Session
from opsh.shell.spec import Args, Command, Kind, Param, arg, opt

MAX_COUNT = 100_000
MAX_LENGTH = 4096
# Symbols that survive shells, URLs' userinfo aside, config files and most password policies:
# no quotes, backslash, dollar, backtick, space, slash or comma.
PASSWORD_SYMBOLS = "-_.~!@#%^+=:"
ALPHABETS = {
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "letters": string.ascii_letters,
    "digits": string.digits,
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "alnum": string.ascii_letters + string.digits,
    "urlsafe": string.ascii_letters + string.digits + "-_",
    "punct": string.punctuation,
    "symbols": PASSWORD_SYMBOLS,
}
_RANGE = re.compile(r"^(-?\d+)(?:-|\.\.)(-?\d+)$")

_COUNT = opt("-n", "--count", kind=Kind.INT, default=1, metavar="N", help="how many values")


def _rng() -> secrets.SystemRandom:
    return secrets.SystemRandom()


def _count(args: Args) -> int:
    count = int(args.count)
    if not 1 <= count <= MAX_COUNT:
        raise UsageError(f"--count must be between 1 and {MAX_COUNT}, got {count}")
    return count


def _values(make: Callable[[], Any], count: int) -> Result:
    """One value as text (easy to redirect or pipe); several as a table."""
    if count == 1:
        return Result.of_text(str(make()))
    return Result.table(["value"], [[make()] for _ in range(count)])


def _listed(values: Sequence[Any]) -> Result:
    if len(values) == 1:
        return Result.of_text(str(values[0]))
    return Result.table(["value"], [[v] for v in values])


def _items(session: Session, args: Args) -> list[str]:
    """Items from the command line, or one per non-empty line of --from FILE."""
    items = list(args.item)
    if args.get("from_file"):
        text = read_text(session.path(args.from_file), args.from_file)
        items += [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return items


_FROM = opt("--from", kind=Kind.PATH, name="from_file", metavar="FILE", help="take items from a file, one per line")


class RandomInt(Command):
    name = "int"
    summary = "a random integer between A and B, both included"
    params = (arg("low", Kind.INT, metavar="A"), arg("high", Kind.INT, metavar="B"), _COUNT)
    examples = ("random int 1 6", "random int -5 5", "random int 1 100 --count 5")

    def run(self, session: Session, args: Args) -> Result:
        low, high = args.low, args.high
        if low > high:
            raise UsageError(f"random int: A ({low}) is greater than B ({high})", "e.g. random int 1 6")
        rng = _rng()
        return _values(lambda: rng.randint(low, high), _count(args))


class RandomFloat(Command):
    name = "float"
    summary = "a random number in [A, B) (default [0, 1))"
    params = (
        arg("low", Kind.FLOAT, required=False, default=0.0, metavar="A"),
        arg("high", Kind.FLOAT, required=False, metavar="B"),
        _COUNT,
    )
    examples = ("random float", "random float 1.5 2.5", "random float -1 1 --count 3")

    def run(self, session: Session, args: Args) -> Result:
        if args.high is None and args.low != 0.0:
            raise UsageError("random float: give both A and B, or neither", "e.g. random float 1.5 2.5")
        low, high = args.low, 1.0 if args.high is None else args.high
        if low >= high:
            raise UsageError(f"random float: A ({low}) must be below B ({high})")
        rng = _rng()
        return _values(lambda: rng.uniform(low, high), _count(args))


class RandomChoice(Command):
    name = "choice"
    summary = "pick one item (or --count N, with repeats) from the list or a file"
    params = (arg("item", Kind.TEXT, required=False, multiple=True, metavar="ITEM"), _FROM, _COUNT)
    examples = ("random choice apple pear banana", "random choice --from hosts.txt", "random choice H T --count 10")
    dash_args = True

    def run(self, session: Session, args: Args) -> Result:
        items = _items(session, args)
        if not items:
            raise UsageError("random choice: nothing to choose from", "give items, or --from FILE")
        rng = _rng()
        return _values(lambda: rng.choice(items), _count(args))


class RandomSample(Command):
    name = "sample"
    summary = "N distinct picks from a range FROM-TO or from a list (no repeats)"
    usage = "random sample N FROM-TO | N ITEM... | N --from FILE"
    params = (
        arg("size", Kind.INT, metavar="N"),
        arg("item", Kind.TEXT, required=False, multiple=True, metavar="FROM-TO|ITEM"),
        _FROM,
    )
    examples = (
        "random sample 10 1-100",
        "random sample 3 -10..10",
        "random sample 2 web1 web2 web3 web4",
        "random sample 5 --from hosts.txt",
    )
    dash_args = True

    def run(self, session: Session, args: Args) -> Result:
        size = args.size
        if not 1 <= size <= MAX_COUNT:
            raise UsageError(f"random sample: N must be between 1 and {MAX_COUNT}, got {size}")
        population = _population(session, args)
        if size > len(population):
            raise UsageError(
                f"random sample: cannot pick {size} distinct values from {len(population)}",
                "lower N, or use `random choice ... --count N` to allow repeats",
            )
        return _listed(_rng().sample(population, size))


def _population(session: Session, args: Args) -> Sequence[Any]:
    if len(args.item) == 1 and not args.get("from_file"):
        bounds = _RANGE.match(args.item[0])
        if bounds:
            low, high = int(bounds.group(1)), int(bounds.group(2))
            if low > high:
                raise UsageError(f"random sample: empty range {args.item[0]}", "write FROM-TO with FROM <= TO")
            return range(low, high + 1)
    items = _items(session, args)
    if not items:
        raise UsageError("random sample: nothing to pick from", "give FROM-TO (1-100), items, or --from FILE")
    return items


class RandomPassword(Command):
    name = "password"
    summary = "a password from the secrets module: upper, lower, digits and (default) symbols"
    params = (
        arg("length", Kind.INT, required=False, default=20, metavar="LEN"),
        opt("--symbols", help=f"include symbols {PASSWORD_SYMBOLS} (the default)"),
        opt("--no-symbols", help="letters and digits only"),
        _COUNT,
    )
    examples = ("random password", "random password 32", "random password 16 --no-symbols --count 5")

    def run(self, session: Session, args: Args) -> Result:
        if args.symbols and args.no_symbols:
            raise UsageError("give --symbols or --no-symbols, not both")
        classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits]
        if not args.no_symbols:
            classes.append(PASSWORD_SYMBOLS)
        length = args.length
        if not len(classes) <= length <= MAX_LENGTH:
            raise UsageError(f"random password: length must be between {len(classes)} and {MAX_LENGTH}, got {length}")
        return _values(lambda: make_password(length, classes), _count(args))


def make_password(length: int, classes: Sequence[str]) -> str:
    """Uniform over the whole alphabet, redrawn until every class appears (no positional bias)."""
    alphabet = "".join(classes)
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if all(any(c in group for c in candidate) for group in classes):
            return candidate


class RandomUuid(Command):
    name = "uuid"
    summary = "random (version 4) UUIDs"
    params = (_COUNT,)
    examples = ("random uuid", "random uuid --count 5", "random uuid -n 3 --format json")

    def run(self, session: Session, args: Args) -> Result:
        import uuid  # imported on use: it pulls in platform, which costs startup time

        return _values(lambda: str(uuid.uuid4()), _count(args))


class RandomString(Command):
    name = "string"
    summary = "a random string from named alphabets (lower, upper, digits, hex...) or --chars"
    params = (
        arg("length", Kind.INT, required=False, default=16, metavar="LEN"),
        opt(
            "--alphabet",
            kind=Kind.TEXT,
            default="alnum",
            metavar="SET[,SET]",
            help=f"one or more of {', '.join(ALPHABETS)}",
        ),
        opt("--chars", kind=Kind.TEXT, metavar="CHARS", help="draw from exactly these characters"),
        _COUNT,
    )
    examples = (
        "random string",
        "random string 32 --alphabet hex",
        "random string 8 --alphabet lower,digits",
        "random string 6 --chars ACGT --count 4",
    )

    def run(self, session: Session, args: Args) -> Result:
        alphabet = args.chars if args.chars else alphabet_of(args.alphabet)
        if not alphabet:
            raise UsageError("--chars is empty")
        if not 1 <= args.length <= MAX_LENGTH:
            raise UsageError(f"random string: length must be between 1 and {MAX_LENGTH}, got {args.length}")
        length = args.length
        return _values(lambda: "".join(secrets.choice(alphabet) for _ in range(length)), _count(args))

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[str] | None:
        if param.name != "alphabet":
            return None
        head, _, tail = prefix.rpartition(",")
        lead = head + "," if head else ""
        return [lead + name for name in ALPHABETS if name.startswith(tail)]


def alphabet_of(spec: str) -> str:
    """`lower,digits` -> the characters of both, each once, in a stable order."""
    chars: dict[str, None] = {}
    for name in filter(None, (part.strip() for part in spec.split(","))):
        if name not in ALPHABETS:
            raise UsageError(f"unknown alphabet {name!r}", f"one or more of {', '.join(ALPHABETS)}, comma-separated")
        chars.update(dict.fromkeys(ALPHABETS[name]))
    if not chars:
        raise UsageError("--alphabet is empty", f"one or more of {', '.join(ALPHABETS)}")
    return "".join(chars)


class RandomCmd(Command):
    name = "random"
    area = "random"
    summary = "random numbers, picks, samples, passwords, UUIDs and strings (OS randomness)"
    subcommands = (RandomInt, RandomFloat, RandomChoice, RandomSample, RandomPassword, RandomUuid, RandomString)
    examples = (
        "random int 1 6",
        "random choice apple pear banana",
        "random sample 10 1-100",
        "random float",
        "random password 24",
        "random uuid --count 3",
        "random string 12 --alphabet lower",
    )


COMMANDS = (RandomCmd,)
