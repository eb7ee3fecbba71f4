"""Wall-clock times around DST changes, compared with GNU date on the same input.

A time the clocks skip (02:30 on the night New York moves to summer time) does not exist:
GNU date says `invalid date` and so does opsh. A time the clocks show twice is read as the
first and opsh says so, with how to write the second.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.helpers import clean_env, opsh_binary


def gnu_date_epoch(zone: str, text: str) -> int | None:
    """What `TZ=zone date -d text +%s` says; None for its `invalid date`."""
    done = subprocess.run(
        ["date", "-d", text, "+%s"], env={**os.environ, "TZ": zone}, capture_output=True, text=True
    )
    if done.returncode != 0:
        assert "invalid date" in done.stderr
        return None
    return int(done.stdout)


SKIPPED = [
    ("America/New_York", "2021-03-14 02:30:00"),
    ("America/New_York", "2021-03-14 02:00:00"),
    ("Europe/Berlin", "2021-03-28 02:59:59"),
    ("Australia/Lord_Howe", "2021-10-03 02:15:00"),  # a 30-minute change
]
ORDINARY = [
    ("America/New_York", "2021-03-14 01:59:59"),
    ("America/New_York", "2021-03-14 03:00:00"),
    ("Europe/Berlin", "2021-07-01 12:00:00"),
    ("Asia/Kolkata", "2021-03-14 02:30:00"),
]


@pytest.mark.parametrize(("zone", "text"), SKIPPED)
def test_a_skipped_local_time_is_refused_like_gnu_date(sh, zone, text):
    assert gnu_date_epoch(zone, text) is None
    out = sh.fails(f"ts {text} --tz {zone}", f"invalid date '{text}'")
    assert f"does not exist in {zone}" in out.err and "clocks move forward" in out.err
    sh.fails(f"date {text} --tz {zone}", "does not exist")
    sh.fails(f"datediff '{text}' 2021-01-01 --tz {zone}", "does not exist")


@pytest.mark.parametrize(("zone", "text"), ORDINARY)
def test_ordinary_times_agree_with_gnu_date(sh, zone, text):
    doc = sh.json(f"ts {text} --tz {zone}")
    assert doc["epoch"] == gnu_date_epoch(zone, text)
    assert "note" not in doc


def test_the_hint_of_a_skipped_time_is_valid_input(sh):
    out = sh.fails("ts 2021-03-14 02:30:00 --tz America/New_York", "does not exist")
    suggested = out.err.rsplit("offset: ", 1)[1].rstrip(")\n")
    assert suggested == "2021-03-14T02:30:00-05:00"
    assert sh.json(f"ts {suggested}")["epoch"] == gnu_date_epoch("UTC", "2021-03-14 07:30:00")


@pytest.mark.parametrize(
    ("zone", "text", "first", "second"),
    [
        ("America/New_York", "2021-11-07 01:30:00", "EDT (-0400)", "-05:00"),
        ("Europe/Berlin", "2021-10-31 02:30:00", "CEST (+0200)", "+01:00"),
    ],
)
def test_a_repeated_local_time_is_the_first_and_says_so(sh, zone, text, first, second):
    doc = sh.json(f"ts {text} --tz {zone}")
    assert f"happens twice in {zone}: read as the first, {first}" in doc["note"]
    written = f"{text.replace(' ', 'T')}{second}"
    assert f"for the second write {written}" in doc["note"]
    later = sh.json(f"ts {written}")
    assert later["epoch"] - doc["epoch"] == 3600
    # GNU date picks one of the two (the first in New York, the second in Berlin: mktime's guess)
    assert gnu_date_epoch(zone, text) in (doc["epoch"], later["epoch"])


def test_new_york_repeated_hour_matches_gnu_date(sh):
    assert sh.json("ts 2021-11-07 01:30:00 --tz America/New_York")["epoch"] == gnu_date_epoch(
        "America/New_York", "2021-11-07 01:30:00"
    )


def test_the_machine_zone_is_checked_the_same_way(tmp_path):
    """With TZ set for the process, `ts` without --tz reads in that zone: the issue's repro."""
    env = clean_env(tmp_path / "home", TZ="America/New_York")
    run = [opsh_binary(), "--no-history", "-c"]
    skipped = subprocess.run([*run, "ts 2021-03-14 02:30:00"], env=env, capture_output=True, text=True)
    assert skipped.returncode != 0
    assert "invalid date '2021-03-14 02:30:00'" in skipped.stderr and "local time zone" in skipped.stderr
    repeated = subprocess.run(
        [*run, "ts 2021-11-07 01:30:00 --format json"], env=env, capture_output=True, text=True, check=True
    )
    assert '"note": "2021-11-07 01:30:00 happens twice in the local time zone' in repeated.stdout


def test_arithmetic_into_a_skipped_hour_lands_after_it_like_gnu_date(sh):
    """`date X +1d` moves the wall clock; where that falls into the gap, the moment it stands
    for is shown (GNU date: `TZ=America/New_York date -d '2021-03-13 02:30 1 day'`)."""
    out = sh.ok("date 2021-03-13 02:30 +1d --tz America/New_York +%s").text.strip()
    assert int(out) == gnu_date_epoch("America/New_York", "2021-03-13 02:30 1 day")
    assert sh.ok("date 2021-03-13 02:30 +1d --tz America/New_York").text.startswith("2021-03-14 03:30:00 -0400 EDT")
