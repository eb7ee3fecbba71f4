"""Time: `ts` (epoch <-> date), `date` (formats, zones, arithmetic, anchors), `datediff`.

Everything turns input into a timezone-aware datetime first, so the arithmetic and the
output never depend on the machine's zone by accident: a date without an offset means the
zone the user chose (`--tz`, `--utc`), else the machine's local zone. Input is validated
strictly: anything unreadable is one error line that lists the accepted formats, instead of
a guess.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from opsh.shell.errors import UsageError, swallowed
from opsh.shell.result import Result
from opsh.shell.session import Session
from opsh.shell.spec import Args, Command, Kind, Param, arg, command, opt

ACCEPTED = (
    "accepted: 2012-03-28 06:53:40, 2012-03-28T06:53:40+02:00, 2012/03/28 06:53, 20120328, 20120328_0653,"
    " 12.03.28 06:53, 28/Mar/2012:06:53:40 +0000, Wed Mar 28 06:53:40 2012, RFC 2822,"
    " epoch 1332917620 (or ms/us/ns, @1332917620), now, today, yesterday, tomorrow"
)
ADJUST_HELP = "+N/-N with a unit s, m, h, d, w, M (months), y; e.g. +1d -3h +1M +1h30m"
DEFAULT_FORMAT = "%Y-%m-%d %H:%M:%S %z %Z"

# strptime formats tried after ISO 8601; naive ones are read in the chosen zone.
_STRPTIME = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y%m%d_%H%M%S",
    "%Y%m%d_%H%M",
    "%Y-%m-%d_%H:%M:%S",
    "%y.%m.%d %H:%M:%S",
    "%y.%m.%d %H:%M",
    "%d/%b/%Y:%H:%M:%S %z",
    "%a %b %d %H:%M:%S %Y",
)
# strptime's messages when the text simply has another shape (as opposed to a bad value).
_MISMATCH = ("does not match format", "unconverted data remains", "Invalid isoformat string")
_EPOCH = re.compile(r"^@?-?\d+(\.\d+)?$")
_UNITS: dict[str, str] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "seconds"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "wk", "week", "weeks"), "weeks"),
    **dict.fromkeys(("M", "mon", "month", "months"), "months"),
    **dict.fromkeys(("y", "yr", "year", "years"), "years"),
}
_ADJUST = re.compile(r"^([+-])((?:\d+[A-Za-z]+)+)$")
_ADJUST_PART = re.compile(r"(\d+)([A-Za-z]+)")
_LOOKS_LIKE_ADJUST = re.compile(r"^[+-]\d+[A-Za-z]\w*$")
_ANCHOR = re.compile(r"^(day|week|month|year)-(start|end)$")
_ANCHOR_OFFSET = re.compile(r"^[+-]?\d+$")
_OFFSET_ZONE = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$", re.I)


# ---------------------------------------------------------------- zones


@dataclass(frozen=True)
class Zone:
    """Where naive input is placed and how output is shown; tz None is the machine's zone."""

    name: str
    tz: dt.tzinfo | None

    def localize(self, naive: dt.datetime) -> dt.datetime:
        """Lenient (for arithmetic): a wall time the clocks skip becomes the moment it stands
        for (02:30 EST is 03:30 EDT), as mktime and GNU date's `+1 day` do."""
        # astimezone() on a naive datetime reads it as machine-local time (DST-aware, via mktime)
        with _in_range():
            if self.tz is None:
                return naive.astimezone()
            return naive.replace(tzinfo=self.tz).astimezone(dt.UTC).astimezone(self.tz)

    def view(self, moment: dt.datetime) -> dt.datetime:
        with _in_range():
            return moment.astimezone(self.tz)

    def place(self, naive: dt.datetime, shown: str, notes: list[str] | None = None) -> dt.datetime:
        """`naive` read strictly as a wall-clock time here: a time the clocks skip (the hour a
        DST change jumps over) is refused as GNU date refuses it; a time they show twice is
        read as the first, and `notes` gets a line saying so and how to write the second."""
        moments = sorted((self.localize(naive.replace(fold=fold)) for fold in (0, 1)), key=lambda m: m.timestamp())
        exists = [moment for moment in moments if self._wall(moment) == naive]
        if not exists:
            before, after = sorted(moments, key=lambda m: m.utcoffset() or dt.timedelta())
            raise UsageError(
                f"invalid date {shown!r}: {naive:%Y-%m-%d %H:%M:%S} does not exist in {self.label()}"
                f" (the clocks move forward there, {_zone_text(before)} to {_zone_text(after)})",
                f"give a time outside the change, or an offset: {naive.isoformat()}{_offset_text(before)}",
            )
        first, last = exists[0], exists[-1]
        if first.timestamp() != last.timestamp() and notes is not None:
            notes.append(
                f"{naive:%Y-%m-%d %H:%M:%S} happens twice in {self.label()}: read as the first,"
                f" {_zone_text(first)}; for the second write {naive.isoformat()}{_offset_text(last)}"
            )
        return first

    def _wall(self, moment: dt.datetime) -> dt.datetime:
        """The wall clock here at `moment`, through UTC (astimezone() to the zone a datetime
        already has would return it unchanged, skipped hour and all)."""
        with _in_range():
            return self.view(moment.astimezone(dt.UTC)).replace(tzinfo=None, fold=0)

    def label(self) -> str:
        return "the local time zone" if self.tz is None else self.name

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).astimezone(self.tz)


@contextmanager
def _in_range() -> Iterator[None]:
    """9999-12-31 23:00 in New York is past year 9999 in UTC: one clear line, not a traceback."""
    try:
        yield
    except (OverflowError, ValueError):
        raise UsageError(
            "date out of range", "years 1 to 9999 in every zone involved (the first and last day may be out of reach)"
        ) from None


def _offset_text(moment: dt.datetime) -> str:
    """`-05:00`: the offset as ISO 8601 input writes it."""
    return moment.isoformat()[19:].lstrip(".0123456789") or "+00:00"


def _zone_text(moment: dt.datetime) -> str:
    """`EDT (-0400)`: the zone's abbreviation and offset at that moment."""
    return f"{moment.tzname()} ({moment:%z})"


LOCAL = Zone("local", None)
UTC = Zone("UTC", dt.UTC)


def parse_zone(text: str) -> Zone:
    """An IANA name (any case), UTC, local, or a fixed offset like +05:30 / UTC-8."""
    name = text.strip()
    if name.lower() == "local":
        return LOCAL
    if name.upper() in ("UTC", "Z", "GMT", "ZULU"):
        return UTC
    offset = _OFFSET_ZONE.match(name)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta >= dt.timedelta(hours=24):
            raise UsageError(f"bad time zone offset: {text!r}", "offsets are below 24 hours, e.g. +05:30")
        return Zone(name, dt.timezone(-delta if sign == "-" else delta))
    return Zone(name, _zoneinfo(name))


def _zoneinfo(name: str) -> dt.tzinfo:
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        swallowed(f"opening time zone {name!r} by its exact name (trying known names next)")
    known = _available_zones()
    exact = {z.lower(): z for z in known}.get(name.lower())
    if exact:
        return zoneinfo.ZoneInfo(exact)
    if not known:
        raise UsageError(
            f"unknown time zone: {name!r}",
            "no zone database on this machine (install tzdata); UTC, local and offsets like +05:30 still work",
        )
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "use an IANA name like Europe/Berlin, UTC, or +05:30"
    raise UsageError(f"unknown time zone: {name!r}", hint)


def _available_zones() -> set[str]:
    import zoneinfo

    try:
        return zoneinfo.available_timezones()
    except OSError:
        swallowed("listing the time zones installed")
        return set()


def zone_from_args(args: Args) -> Zone:
    if args.get("utc") and args.get("tz"):
        raise UsageError("give either --utc or --tz, not both")
    if args.get("utc"):
        return UTC
    return parse_zone(args.tz) if args.get("tz") else LOCAL


# ---------------------------------------------------------------- reading a moment


def parse_moment(
    text: str, zone: Zone, now: dt.datetime | None = None, notes: list[str] | None = None
) -> dt.datetime:
    """An aware datetime from any accepted format; naive input is placed in `zone` strictly
    (see Zone.place: a skipped local time is refused, a repeated one noted in `notes`)."""
    text = " ".join(text.split())
    if not text:
        raise UsageError("no date given", ACCEPTED)
    now = now or zone.now()
    keyword = _keyword(text.lower(), zone, now)
    if keyword is not None:
        return keyword
    if _EPOCH.match(text) and not _compact_date(text):
        return from_epoch(text.lstrip("@"))
    bad_value: str | None = None
    for reader in _READERS:
        try:
            found = reader(text)
        except (ValueError, OverflowError) as exc:
            message = str(exc)
            if not any(m in message for m in _MISMATCH):
                bad_value = bad_value or message
            continue
        if found is not None:
            return found if found.tzinfo else zone.place(found, text, notes)
    if bad_value:
        raise UsageError(f"invalid date {text!r}: {bad_value}", ACCEPTED)
    raise UsageError(f"cannot read {text!r} as a date", ACCEPTED)


def _keyword(word: str, zone: Zone, now: dt.datetime) -> dt.datetime | None:
    if word == "now":
        return now
    days = {"today": 0, "yesterday": -1, "tomorrow": 1}.get(word)
    if days is None:
        return None
    return _start_of_day(now, zone) if days == 0 else add_calendar(_start_of_day(now, zone), zone, days=days)


def _compact_date(text: str) -> bool:
    """`20120328` is a date, not an epoch (use @20120328 for the epoch)."""
    if not re.fullmatch(r"\d{8}", text):
        return False
    try:
        dt.datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return False
    return 1900 <= int(text[:4]) <= 2200


def from_epoch(text: str) -> dt.datetime:
    """Seconds, or milliseconds / microseconds / nanoseconds told apart by magnitude."""
    value = float(text)
    magnitude = abs(value)
    if magnitude >= 1e17:
        value /= 1e9
    elif magnitude >= 1e14:
        value /= 1e6
    elif magnitude >= 1e11:
        value /= 1e3
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise UsageError(f"epoch out of range: {text}", "years 1 to 9999") from None


def _iso(text: str) -> dt.datetime | None:
    value = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    if not re.match(r"^\d{4}-?\d{2}", value):
        return None
    return dt.datetime.fromisoformat(value)


def _compact(text: str) -> dt.datetime | None:
    return dt.datetime.strptime(text, "%Y%m%d") if _compact_date(text) else None


def _rfc2822(text: str) -> dt.datetime | None:
    import email.utils

    if not re.match(r"^([A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}", text):
        return None
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, IndexError):
        return None


def _strptime_reader(fmt: str) -> Callable[[str], dt.datetime | None]:
    return lambda text: dt.datetime.strptime(text, fmt)


_READERS: tuple[Callable[[str], dt.datetime | None], ...] = (
    _compact,
    _iso,
    _rfc2822,
    *(_strptime_reader(f) for f in _STRPTIME),
)


# ---------------------------------------------------------------- arithmetic


def add_calendar(moment: dt.datetime, zone: Zone, *, years: int = 0, months: int = 0, days: int = 0) -> dt.datetime:
    """Calendar units move the wall clock (same time next day, across DST); months clamp to
    the month's last day (2024-01-31 +1M is 2024-02-29)."""
    wall = zone.view(moment).replace(tzinfo=None)
    total = wall.year * 12 + (wall.month - 1) + years * 12 + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise UsageError("date out of range", "years 1 to 9999")
    day = min(wall.day, calendar.monthrange(year, month + 1)[1])
    try:
        wall = wall.replace(year=year, month=month + 1, day=day) + dt.timedelta(days=days)
    except OverflowError:
        raise UsageError("date out of range", "years 1 to 9999") from None
    return zone.localize(wall)


def apply_adjustment(moment: dt.datetime, token: str, zone: Zone) -> dt.datetime:
    """`+1d`, `-3h`, `+1h30m`: seconds/minutes/hours are elapsed time, the rest calendar."""
    match = _ADJUST.match(token)
    if not match:
        raise UsageError(f"bad adjustment {token!r}", ADJUST_HELP)
    sign = -1 if match.group(1) == "-" else 1
    amounts = {"seconds": 0, "minutes": 0, "hours": 0, "days": 0, "weeks": 0, "months": 0, "years": 0}
    for number, unit in _ADJUST_PART.findall(match.group(2)):
        key = _UNITS.get(unit) or (_UNITS.get(unit.lower()) if len(unit) > 1 else None)
        if key is None:
            raise UsageError(f"bad unit {unit!r} in {token!r}", ADJUST_HELP)
        amounts[key] += sign * int(number)
    elapsed = dt.timedelta(seconds=amounts["seconds"], minutes=amounts["minutes"], hours=amounts["hours"])
    try:
        moment = (moment.astimezone(dt.UTC) + elapsed).astimezone(moment.tzinfo)
    except OverflowError:
        raise UsageError("date out of range", "years 1 to 9999") from None
    days = amounts["days"] + 7 * amounts["weeks"]
    if not (amounts["years"] or amounts["months"] or days):
        return moment
    return add_calendar(moment, zone, years=amounts["years"], months=amounts["months"], days=days)


def _start_of_day(moment: dt.datetime, zone: Zone) -> dt.datetime:
    wall = zone.view(moment).replace(tzinfo=None)
    return zone.localize(wall.replace(hour=0, minute=0, second=0, microsecond=0))


def apply_anchor(moment: dt.datetime, unit: str, edge: str, shift: int, zone: Zone) -> dt.datetime:
    """Snap to the start or end of the day/week/month/year, `shift` periods away first
    (`month-end -1` is the last day of the previous month, 23:59:59)."""
    wall = zone.view(moment).replace(tzinfo=None)
    day = wall.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        start = day + dt.timedelta(days=shift)
        end = start + dt.timedelta(days=1)
    elif unit == "week":
        start = day - dt.timedelta(days=day.weekday()) + dt.timedelta(weeks=shift)
        end = start + dt.timedelta(weeks=1)
    else:
        months = shift * (12 if unit == "year" else 1)
        first = day.replace(day=1, month=1 if unit == "year" else day.month)
        start = add_calendar(zone.localize(first), zone, months=months).replace(tzinfo=None)
        end = add_calendar(zone.localize(start), zone, months=12 if unit == "year" else 1).replace(tzinfo=None)
    chosen = start if edge == "start" else end - dt.timedelta(seconds=1)
    return zone.localize(chosen)


# ---------------------------------------------------------------- showing a moment


def strftime(moment: dt.datetime, fmt: str) -> str:
    """strftime with `%s` as the epoch of this moment (the C library's %s assumes local time)."""
    epoch = str(int(moment.timestamp()))
    return moment.strftime(fmt.replace("%%", "\0").replace("%s", epoch).replace("\0", "%%"))


def show(moment: dt.datetime) -> str:
    return strftime(moment, DEFAULT_FORMAT)


def epoch_of(moment: dt.datetime) -> int | float:
    value = moment.timestamp()
    return int(value) if value == int(value) else round(value, 6)


def relative(seconds: float) -> str:
    """`3 hours ago`, `in 2 days`: the largest unit, rounded down."""
    size = abs(seconds)
    if size < 1:
        return "now"
    for unit, length in (("year", 31557600), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if size >= length:
            count = int(size // length)
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"{words} ago" if seconds < 0 else f"in {words}"
    return "now"


def duration(seconds: float) -> str:
    """`47d 3h 0m 5s` style, signed."""
    sign = "-" if seconds < 0 else ""
    rest = int(round(abs(seconds)))
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours or minutes or secs:
        parts += [f"{hours}h", f"{minutes}m", f"{secs}s"]
    return sign + (" ".join(parts) or "0s")


def _number(value: float) -> int | float:
    return int(value) if value == int(value) else round(value, 3)


# ---------------------------------------------------------------- commands


def zone_completion(cls: type[Command]) -> type[Command]:
    """Class decorator: `--tz <Tab>` offers local, UTC and the IANA zone names."""

    def complete(self: Command, session: Session, args: Args, param: Param, prefix: str) -> list[str] | None:
        if param.name != "tz":
            return None
        names = ["local", "UTC", *sorted(_available_zones())]
        low = prefix.lower()
        return [n for n in names if n.lower().startswith(low)][:300]

    cls.complete = complete  # type: ignore[method-assign]
    return cls


_ZONE_OPTS = (
    opt("--tz", kind=Kind.TEXT, metavar="ZONE", help="time zone for input and output (Europe/Berlin, UTC, +05:30)"),
    opt("--utc", help="same as --tz UTC"),
)


@zone_completion
@command(
    "ts",
    area="time",
    summary="timestamps: now, a date to its epoch, an epoch (s/ms/us/ns) to local and UTC dates",
    params=(arg("when", Kind.TEXT, required=False, multiple=True, metavar="DATE|EPOCH", help=ACCEPTED), *_ZONE_OPTS),
    examples=(
        "ts",
        "ts 2012-03-28 06:53:40",
        "ts 1332917620",
        "ts 1332917620000",
        "ts 2012-03-28T06:53:40Z --tz Asia/Tokyo",
        "ts yesterday --format json",
    ),
)
def ts_cmd(session: Session, args: Args) -> Result:
    zone = zone_from_args(args)
    now = zone.now().replace(microsecond=0)
    notes: list[str] = []
    moment = parse_moment(" ".join(args.when), zone, now, notes) if args.when else now
    doc: dict[str, object] = {
        "epoch": epoch_of(moment),
        "epoch_ms": int(round(moment.timestamp() * 1000)),
        "local": show(LOCAL.view(moment)),
        "utc": show(UTC.view(moment)),
    }
    if zone is not LOCAL and zone is not UTC:
        doc[zone.name] = show(zone.view(moment))
    precise = "microseconds" if moment.microsecond % 1000 else "milliseconds" if moment.microsecond else "seconds"
    doc["iso"] = UTC.view(moment).isoformat(timespec=precise).replace("+00:00", "Z")
    doc["relative"] = relative(moment.timestamp() - now.timestamp())
    if notes:
        doc["note"] = " ".join(notes)
    return Result.doc(doc)


@zone_completion
@command(
    "date",
    area="time",
    summary="the date and time: formats, zones, arithmetic (+1d -3h +1M) and anchors (month-end -1)",
    usage="date [DATE] [ADJUST|ANCHOR [N]]... [+FORMAT] [--tz ZONE] [--utc]",
    params=(
        arg(
            "words",
            Kind.TEXT,
            required=False,
            multiple=True,
            help="a start date (default now), then +N/-N units s m h d w M y, anchors "
            "day|week|month|year-start|end [N], and +FORMAT (strftime; %s is the epoch)",
        ),
        *_ZONE_OPTS,
    ),
    examples=(
        "date",
        "date +%Y%m%d_%H%M",
        "date --tz America/New_York",
        "date +1d -3h",
        "date 2024-01-31 +1M              # 2024-02-29: months clamp to the month's end",
        "date yesterday +%Y%m%d",
        "date month-end -1 +%Y/%m/%d      # last day of the previous month",
        "date month-start                 # 00:00:00 on the 1st of this month",
        "date 1332917620 --utc",
    ),
    dash_args=True,
)
def date_cmd(session: Session, args: Args) -> Result:
    zone = zone_from_args(args)
    notes: list[str] = []
    moment, fmt = evaluate(args.words, zone, notes=notes)
    return Result.of_text(strftime(zone.view(moment), fmt or DEFAULT_FORMAT), status=" ".join(notes))


def evaluate(
    words: Sequence[str], zone: Zone, now: dt.datetime | None = None, notes: list[str] | None = None
) -> tuple[dt.datetime, str | None]:
    """Read `date`'s words left to right: base date, adjustments and anchors, +FORMAT."""
    base: list[str] = []
    steps: list[str] = []
    fmt: str | None = None
    for word in words:
        if word.startswith("+") and "%" in word:
            if fmt is not None:
                raise UsageError("two +FORMAT words", "give one, e.g. +%Y-%m-%d")
            fmt = word[1:]
        elif steps or _is_step(word):
            steps.append(word)
        else:
            base.append(word)
    moment = parse_moment(" ".join(base), zone, now, notes) if base else (now or zone.now())
    index = 0
    while index < len(steps):
        word = steps[index]
        index += 1
        anchor = _ANCHOR.match(word)
        if anchor:
            shift = 0
            if index < len(steps) and _ANCHOR_OFFSET.match(steps[index]):
                shift = int(steps[index])
                index += 1
            moment = apply_anchor(moment, anchor.group(1), anchor.group(2), shift, zone)
        elif _LOOKS_LIKE_ADJUST.match(word):
            moment = apply_adjustment(moment, word, zone)
        else:
            raise UsageError(f"date: cannot read {word!r} here", f"put the date first; then {ADJUST_HELP}")
    return moment, fmt


def _is_step(word: str) -> bool:
    return bool(_ANCHOR.match(word) or _LOOKS_LIKE_ADJUST.match(word))


@zone_completion
@command(
    "datediff",
    area="time",
    summary="the time between two dates (A - B; B defaults to now) in days, hours and seconds",
    usage="datediff A [B] [--tz ZONE] [--utc]",
    params=(
        arg("dates", Kind.TEXT, multiple=True, metavar="A [B]", help="two dates; quote one that has a space"),
        *_ZONE_OPTS,
    ),
    examples=(
        "datediff 2005-02-16 2004-12-31",
        "datediff '2024-03-01 12:00' '2024-02-28 06:30'",
        "datediff 2030-01-01",
        "datediff 1332917620 2012-01-01 --utc",
    ),
    dash_args=True,
)
def datediff_cmd(session: Session, args: Args) -> Result:
    zone = zone_from_args(args)
    now = zone.now()
    first, second = _two_moments(args.dates, zone, now)
    seconds = first.timestamp() - second.timestamp()
    doc = {
        "a": show(zone.view(first)),
        "b": show(zone.view(second)),
        "days": int(seconds / 86400),
        "hours": _number(seconds / 3600),
        "seconds": _number(seconds),
        "human": duration(seconds),
    }
    return Result.doc(doc)


def _two_moments(words: list[str], zone: Zone, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Split the words into one or two dates: `2024-03-01 12:00 2024-02-28` works unquoted."""
    if len(words) == 1:
        return parse_moment(words[0], zone, now), now
    if len(words) == 2:
        return parse_moment(words[0], zone, now), parse_moment(words[1], zone, now)
    for split in range(1, len(words)):
        try:
            return (
                parse_moment(" ".join(words[:split]), zone, now),
                parse_moment(" ".join(words[split:]), zone, now),
            )
        except UsageError:
            continue
    raise UsageError(f"datediff: cannot read two dates from {' '.join(words)!r}", "quote each date; " + ACCEPTED)


COMMANDS = (ts_cmd, date_cmd, datediff_cmd)
