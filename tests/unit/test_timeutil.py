"""`ts`, `date` and `datediff`: epochs, formats, zones, arithmetic and strict input checks."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator

import pytest

from opsh.shell.completion import local_candidates

SEED_EPOCH = 1332917620  # 2012-03-28 06:53:40 UTC, the study sheet's example


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local zone set to Europe/Berlin for one test."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_ts_date_to_epoch_and_back(sh):
    doc = sh.json("ts 2012-03-28 06:53:40 --utc")
    assert doc["epoch"] == SEED_EPOCH
    assert doc["epoch_ms"] == SEED_EPOCH * 1000
    assert doc["iso"] == "2012-03-28T06:53:40Z"
    back = sh.json(f"ts {SEED_EPOCH}")
    assert back["utc"] == "2012-03-28 06:53:40 +0000 UTC"
    assert back["relative"].endswith("years ago")


def test_ts_reads_naive_dates_in_the_local_zone(sh, berlin):
    doc = sh.json("ts 2012-03-28 08:53:40")
    assert doc["epoch"] == SEED_EPOCH
    assert doc["local"] == "2012-03-28 08:53:40 +0200 CEST"
    assert doc["utc"] == "2012-03-28 06:53:40 +0000 UTC"


@pytest.mark.parametrize(
    "digits", [str(SEED_EPOCH), f"{SEED_EPOCH}000", f"{SEED_EPOCH}000000", f"{SEED_EPOCH}000000000"]
)
def test_ts_tells_seconds_ms_us_and_ns_apart(sh, digits):
    assert sh.json(f"ts {digits}")["utc"] == "2012-03-28 06:53:40 +0000 UTC"


def test_ts_keeps_milliseconds(sh):
    doc = sh.json(f"ts {SEED_EPOCH}123")
    assert doc["epoch"] == SEED_EPOCH + 0.123
    assert doc["epoch_ms"] == SEED_EPOCH * 1000 + 123
    assert doc["iso"] == "2012-03-28T06:53:40.123Z"


def test_ts_shows_an_extra_zone(sh):
    doc = sh.json(f"ts {SEED_EPOCH} --tz Asia/Tokyo")
    assert doc["Asia/Tokyo"] == "2012-03-28 15:53:40 +0900 JST"


def test_ts_now_is_now(sh):
    before = int(time.time())
    doc = sh.json("ts")
    assert before <= doc["epoch"] <= int(time.time())
    assert doc["relative"] == "now"


@pytest.mark.parametrize(
    "text",
    [
        "2012-03-28T06:53:40Z",
        "2012-03-28 06:53:40+00:00",
        "2012-03-28T08:53:40+02:00",
        "2012/03/28 06:53:40",
        "20120328_065340",
        "2012-03-28_06:53:40",
        "12.03.28 06:53:40",
        "28/Mar/2012:06:53:40 +0000",
        "Wed Mar 28 06:53:40 2012",
        "'Wed, 28 Mar 2012 06:53:40 +0000'",
        f"@{SEED_EPOCH}",
    ],
)
def test_accepted_input_formats(sh, text):
    assert sh.json(f"ts {text} --utc")["epoch"] == SEED_EPOCH


def test_compact_dates_are_dates_and_at_sign_forces_an_epoch(sh):
    assert sh.json("ts 20120328 --utc")["utc"] == "2012-03-28 00:00:00 +0000 UTC"
    assert sh.json("ts @20120328 --utc")["epoch"] == 20120328


def test_date_with_a_strftime_format(sh):
    before = dt.datetime.now(dt.UTC).strftime("%Y%m%d_%H%M")
    out = sh("date +%Y%m%d_%H%M --utc")
    after = dt.datetime.now(dt.UTC).strftime("%Y%m%d_%H%M")
    assert out.ok and out.text.strip() in (before, after)


def test_date_default_format_and_epoch_directive(sh):
    out = sh(f"date {SEED_EPOCH} --tz America/New_York")
    assert out.text == "2012-03-28 02:53:40 -0400 EDT\n"
    assert sh(f"date {SEED_EPOCH} --tz +05:30 +%s").text.strip() == str(SEED_EPOCH)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("date 2024-01-31 +1M", "2024-02-29 00:00:00"),
        ("date 2023-01-31 +1M", "2023-02-28 00:00:00"),
        ("date 2024-03-31 -1M", "2024-02-29 00:00:00"),
        ("date 2024-02-29 +1y", "2025-02-28 00:00:00"),
        ("date '2024-03-10 12:00' +1d -3h", "2024-03-11 09:00:00"),
        ("date '2024-03-10 12:00' +1h30m", "2024-03-10 13:30:00"),
        ("date 2024-03-10 +2w", "2024-03-24 00:00:00"),
        ("date '2024-03-10 12:00' -90min", "2024-03-10 10:30:00"),
    ],
)
def test_date_arithmetic(sh, line, expected):
    out = sh(f"{line} --utc '+%Y-%m-%d %H:%M:%S'")
    assert out.ok, out.err
    assert out.text.strip() == expected


def test_days_keep_the_wall_clock_and_hours_are_elapsed_time_across_dst(sh):
    # Europe/Berlin springs forward on 2024-03-31 at 02:00
    assert sh("date '2024-03-30 12:00' +1d --tz Europe/Berlin").text.strip() == "2024-03-31 12:00:00 +0200 CEST"
    assert sh("date '2024-03-30 12:00' +24h --tz Europe/Berlin").text.strip() == "2024-03-31 13:00:00 +0200 CEST"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("month-end -1", "2024-02-29 23:59:59"),
        ("month-start", "2024-03-01 00:00:00"),
        ("month-end", "2024-03-31 23:59:59"),
        ("month-start 1", "2024-04-01 00:00:00"),
        ("week-start", "2024-03-11 00:00:00"),
        ("week-end", "2024-03-17 23:59:59"),
        ("year-end -1", "2023-12-31 23:59:59"),
        ("day-end", "2024-03-15 23:59:59"),
        ("-1M month-end", "2024-02-29 23:59:59"),
    ],
)
def test_date_anchors(sh, words, expected):
    out = sh(f"date '2024-03-15 10:20:30' {words} --utc '+%Y-%m-%d %H:%M:%S'")
    assert out.ok, out.err
    assert out.text.strip() == expected


def test_last_day_of_previous_month_as_in_the_seed(sh):
    today = dt.datetime.now(dt.UTC).date()
    expected = today.replace(day=1) - dt.timedelta(days=1)
    assert sh("date month-end -1 +%Y/%m/%d --utc").text.strip() == expected.strftime("%Y/%m/%d")


def test_yesterday_today_tomorrow(sh):
    today = dt.datetime.now(dt.UTC).date()
    assert sh("date yesterday +%Y%m%d --utc").text.strip() == (today - dt.timedelta(days=1)).strftime("%Y%m%d")
    assert sh("date today --utc").text.strip() == f"{today} 00:00:00 +0000 UTC"
    assert sh("date tomorrow +%F --utc").text.strip() == str(today + dt.timedelta(days=1))


def test_datediff_days_as_in_the_seed(sh):
    doc = sh.json("datediff 2005-02-16 2004-12-31")
    assert doc["days"] == 47
    assert doc["hours"] == 47 * 24
    assert doc["seconds"] == 47 * 86400
    assert doc["human"] == "47d"


def test_datediff_with_times_and_unquoted_dates(sh):
    doc = sh.json("datediff 2024-03-01 12:00 2024-02-28 06:30 --utc")
    assert doc["days"] == 2
    assert doc["hours"] == 53.5
    assert doc["human"] == "2d 5h 30m 0s"
    negative = sh.json("datediff 2004-12-31 '2005-02-16 12:00' --utc")
    assert negative["days"] == -47
    assert negative["human"] == "-47d 12h 0m 0s"


def test_datediff_against_now(sh):
    doc = sh.json("datediff tomorrow --utc")
    assert 0 < doc["seconds"] <= 86400


def test_a_table_by_default(sh):
    out = sh("datediff 2005-02-16 2004-12-31")
    assert re.search(r"\|\s*days\s*\|\s*47\s*\|", out.text)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("date 2012-02-30", "invalid date '2012-02-30': day is out of range for month"),
        ("ts 2012-13-01", "invalid date '2012-13-01'"),
        ("ts foo", "cannot read 'foo' as a date"),
        ("date +1x", "bad unit 'x' in '+1x'"),
        ("date +1d 2012-01-01", "cannot read '2012-01-01' here"),
        ("date --tz Mars/Olympus_Mons", "unknown time zone: 'Mars/Olympus_Mons'"),
        ("date --tz +25:00", "bad time zone offset"),
        ("date --utc --tz UTC", "either --utc or --tz"),
        ("date +%Y +%m", "two +FORMAT words"),
        ("datediff a b c", "cannot read two dates"),
    ],
)
def test_bad_input_is_one_line_naming_the_problem(sh, line, message):
    out = sh(line)
    assert not out.ok and out.exit_code == 2
    assert out.err.count("\n") == 1 and out.err.startswith("error: ")
    assert message in out.err
    assert "Traceback" not in out.err


def test_unreadable_dates_list_the_accepted_formats(sh):
    err = sh("ts 14.05.2013").err
    assert "accepted: 2012-03-28 06:53:40" in err and "epoch 1332917620" in err


def test_zone_names_are_found_whatever_their_case(sh):
    assert sh(f"date {SEED_EPOCH} --tz europe/berlin").text.strip() == "2012-03-28 08:53:40 +0200 CEST"
    assert "did you mean Europe/Berlin" in sh("date --tz Europe/Berln").err


def test_time_zones_complete(sh):
    found = [w for w, _, _ in local_candidates(sh.session, "date --tz europe/ber")]
    assert found == ["Europe/Berlin"]
    assert [w for w, _, _ in local_candidates(sh.session, "ts --tz UT")][:1] == ["UTC"]
