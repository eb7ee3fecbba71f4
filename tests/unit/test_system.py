"""`sys`, `env`, `which` and `ps`, checked against what the machine itself says."""

from __future__ import annotations

import getpass
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsh.shell.redact import MASK

# Unique to this test process: other suites on this machine run the same tests at the same time.
SLEEP = f"31.{os.getpid()}"


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A process with a recognisable command line, stopped by pid at the end."""
    proc = subprocess.Popen(["sleep", SLEEP])
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def spinner() -> Iterator[subprocess.Popen[bytes]]:
    """A process that burns CPU, to see cpu% move (its name is unique: other suites on this
    machine run the same test at the same time)."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys\nwhile True: pass", f"opsh-spinner-{os.getpid()}"])
    yield proc
    proc.kill()
    proc.wait()


def test_sys_overview(sh):
    doc = sh.json("sys")
    assert doc["hostname"] == socket.gethostname()
    assert doc["python_path"] == sys.executable
    assert doc["cpus"] == os.cpu_count()
    assert 0 < doc["memory"]["available"] <= doc["memory"]["total"]
    assert list(doc["load"]) == ["1m", "5m", "15m"]
    assert doc["uptime"] and doc["boot_time"][:2] in ("19", "20")
    assert any(key.startswith("disk /") for key in doc)


def test_sys_overview_is_a_field_value_table_with_readable_sizes(sh):
    out = sh("sys")
    assert out.ok and "| hostname " in out.text and "| kernel " in out.text
    assert re.search(r"\| memory\.total\s+\| \d+(\.\d)?[KMGT] ", out.text)


def test_sys_disks_match_statvfs(sh):
    rows = sh.json("sys disks")
    root = next(r for r in rows if r["mount"] == "/")
    st = os.statvfs("/")
    assert root["size"] == st.f_blocks * st.f_frsize
    assert root["used"] + root["free"] <= root["size"]
    assert 0 <= root["use%"] <= 100
    assert all(r["fstype"] not in ("proc", "sysfs", "cgroup") for r in rows)
    assert any(r["fstype"] == "proc" for r in sh.json("sys disks --all"))


def test_sys_disks_human_sizes_on_screen(sh):
    assert re.search(r"\| /\s+\|.*\|\s+\d+(\.\d)?[KMGT] \|", sh("sys disks").text)


def test_sys_mem_matches_proc_meminfo(sh):
    total_kb = int(
        next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1]
    )
    mem, swap = sh.json("sys mem")
    assert mem["kind"] == "mem" and mem["total"] == total_kb * 1024
    assert 0 < mem["available"] <= mem["total"]
    assert swap["kind"] == "swap" and swap["used"] <= swap["total"]


def test_env_masks_secret_looking_values(sh, monkeypatch):
    monkeypatch.setenv("OPSHT_DB_PASSWORD", "hunter2")
    monkeypatch.setenv("OPSHT_API_TOKEN", "tok-123")
    monkeypatch.setenv("OPSHT_DSN", "mysql://app:s3cret@db1/shop")
    monkeypatch.setenv("OPSHT_REGION", "eu-west-1")
    monkeypatch.setenv("OPSHT_KEY_FILE", "/etc/app/key.pem")
    shown = {r["name"]: r["value"] for r in sh.json("env OPSHT_")}
    assert shown == {
        "OPSHT_API_TOKEN": "***",
        "OPSHT_DB_PASSWORD": "***",
        "OPSHT_DSN": "mysql://app:***@db1/shop",
        "OPSHT_KEY_FILE": "/etc/app/key.pem",
        "OPSHT_REGION": "eu-west-1",
    }
    revealed = {r["name"]: r["value"] for r in sh.json("env OPSHT_ --show")}
    assert revealed["OPSHT_DB_PASSWORD"] == "hunter2" and revealed["OPSHT_DSN"].endswith("s3cret@db1/shop")


@pytest.mark.parametrize(
    "name",
    [
        "OPSHT_DB_PW",
        "OPSHT_SMTP_PASS",
        "OPSHT_PASSWD",
        "OPSHT_PASSPHRASE",
        "OPSHT_GH_TOKEN",
        "OPSHT_TOKENS",
        "OPSHT_VAULT_TOKEN_PATH",
        "OPSHT_CLIENT_SECRET",
        "OPSHT_SECRET_FILE",
        "opsht_lower_secret",
    ],
)
def test_env_masks_the_usual_secret_names(sh, monkeypatch, name):
    """`*_PW`, `*_PASS*`, `*TOKEN*`, `*SECRET*` are masked, whatever their suffix says."""
    monkeypatch.setenv(name, "do-not-show-me")
    assert sh.json(f"env {name}") == [{"name": name, "value": MASK}]
    assert "do-not-show-me" not in sh.ok(f"env {name}").text
    assert sh.json(f"env {name} --show") == [{"name": name, "value": "do-not-show-me"}]


def test_env_glob_and_substring(sh, monkeypatch):
    monkeypatch.setenv("OPSHT_A1", "x")
    monkeypatch.setenv("OPSHT_B1", "y")
    assert [r["name"] for r in sh.json("env 'opsht_a*'")] == ["OPSHT_A1"]
    assert [r["name"] for r in sh.json("env opsht_")] == ["OPSHT_A1", "OPSHT_B1"]
    assert {r["name"] for r in sh.json("env PATH")} >= {"PATH"}


def test_which_finds_executables_and_opsh_commands(sh):
    rows = sh.json("which sh sys")
    assert {"name": "sys", "kind": "opsh command", "path": "commands.system (sys)"} in rows
    sh_row = next(r for r in rows if r["name"] == "sh")
    assert sh_row["kind"] == "executable" and os.access(sh_row["path"], os.X_OK)


def test_which_all_lists_every_match_on_path(sh, tmp_path, monkeypatch):
    for folder in ("one", "two"):
        tool = tmp_path / folder / "opsh-tool"
        tool.parent.mkdir()
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'one'}:{tmp_path / 'two'}")
    assert [r["path"] for r in sh.json("which opsh-tool")] == [str(tmp_path / "one" / "opsh-tool")]
    assert [r["path"] for r in sh.json("which -a opsh-tool")] == [
        str(tmp_path / "one" / "opsh-tool"),
        str(tmp_path / "two" / "opsh-tool"),
    ]


def test_which_fails_for_unknown_names_but_lists_the_rest(sh):
    out = sh("which sh no-such-tool-xyz --format json")
    assert not out.ok and out.exit_code == 1
    assert {"name": "no-such-tool-xyz", "kind": "not found", "path": None} in out.json


def test_ps_finds_a_process_by_command_line(sh, sleeper):
    rows = sh.json(f"ps {SLEEP}")
    assert len(rows) == 1
    row = rows[0]
    assert row["pid"] == sleeper.pid and row["ppid"] == os.getpid()
    assert row["user"] == getpass.getuser() and row["command"] == f"sleep {SLEEP}"
    assert row["state"] in "SR" and row["threads"] == 1 and row["rss"] > 4096
    assert sh.json(f"ps {sleeper.pid}")[0]["command"] == f"sleep {SLEEP}"


def test_ps_start_time_is_when_the_process_started(sh, sleeper):
    import datetime as dt

    started = dt.datetime.fromisoformat(sh.json(f"ps {SLEEP}")[0]["start"])
    assert abs(started.timestamp() - time.time()) < 30


def test_ps_sort_and_limit(sh):
    rows = sh.json("ps --sort rss --limit 5")
    assert len(rows) == 5
    assert [r["rss"] for r in rows] == sorted((r["rss"] for r in rows), reverse=True)
    by_pid = sh.json("ps")
    assert [r["pid"] for r in by_pid] == sorted(r["pid"] for r in by_pid)


def test_ps_user_filter(sh):
    me = getpass.getuser()
    rows = sh.json(f"ps --user {me}")
    assert rows and all(r["user"] == me for r in rows)
    by_uid = sh.json(f"ps -u {os.getuid()}")
    assert by_uid and all(r["user"] == me for r in by_uid)


def test_ps_cpu_sampled_over_an_interval(sh, spinner):
    time.sleep(0.3)
    rows = sh.json(f"ps opsh-spinner-{os.getpid()} --interval 1s")
    assert len(rows) == 1 and rows[0]["pid"] == spinner.pid
    assert rows[0]["cpu%"] > 5  # a core's worth on a quiet machine; other test runs share the CPUs


def test_ps_cpu_over_the_lifetime_by_default(sh, sleeper):
    assert sh.json(f"ps {SLEEP}")[0]["cpu%"] < 5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ps --user no-such-user-xyz", "no such user: 'no-such-user-xyz'"),
        ("ps --limit 0", "--limit must be at least 1"),
        ("ps --sort size", "'size' is not one of pid, cpu, mem, rss, start, user"),
    ],
)
def test_ps_bad_input(sh, line, message):
    out = sh(line)
    assert out.exit_code == 2 and message in out.err


def test_a_figure_that_cannot_be_read_is_logged_under_debug(caplog):
    """Deliberately ignored failures stay quiet, but --debug (logger `opsh`) shows them."""
    import logging

    from opsh.commands.system import _safe

    with caplog.at_level(logging.DEBUG, logger="opsh"):
        assert _safe(Path("/proc/no-such-figure").read_text) == "unknown"
    assert "ignored while reading a system figure" in caplog.text and "FileNotFoundError" in caplog.text
