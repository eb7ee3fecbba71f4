"""`run` on twenty hosts 40 ms of round trip away (tests/servers/wan.py): chunks held as a lost
segment's retransmission would hold them, two hosts refusing connections and one that accepts
and never answers; then the same `run` again, which must reuse the connections it kept."""

from __future__ import annotations

import resource
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsh.commands.shared.nodeset import fold
from tests.helpers import Shell, clean_env, opsh_binary
from tests.servers.wan import Wan, start_wan

FAULTS = {3: "refuse", 9: "refuse", 14: "silent"}
TIMEOUT = 3


@pytest.fixture(scope="module")
def wan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wan]:
    # One chunk in twenty held 200-400 ms (the bench's one in 200 might hold none of a small run's).
    with start_wan(tmp_path_factory.mktemp("wan"), 20, FAULTS, hold_chance=0.05) as wan:
        yield wan


@pytest.fixture
def shell(wan: Wan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shell]:
    for name, value in wan.write_client(tmp_path / "ssh").env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    shell = Shell(tmp_path / "session")
    yield shell
    shell.close()


def test_a_lossy_fleet_fails_exactly_its_dead_hosts_and_the_next_run_logs_in_nowhere(wan: Wan, shell: Shell) -> None:
    refused, silent = wan.of("refuse"), wan.of("silent")
    line = f"run {fold(wan.addresses)} --timeout {TIMEOUT} --format json -- 'echo up'"
    logins = wan.logins()
    wan.reset()

    first = {row["host"]: row for row in shell.fails(line).json}
    assert sorted(first) == sorted(wan.addresses)  # every host once
    assert {h for h, row in first.items() if row["error"]} == set(refused + silent)
    assert all(first[h]["error"] == "connection refused" for h in refused)
    assert first[silent[0]]["error"] == f"timed out: no SSH handshake within {TIMEOUT}s"
    assert TIMEOUT <= first[silent[0]]["seconds"] < TIMEOUT + 1
    assert all(first[h]["stdout"] == "up\n" and first[h]["exit"] == 0 for h in wan.answering)
    assert sorted(row["name"] for row in shell.json("hosts @failed")) == sorted(refused + silent)
    assert wan.logins() - logins == len(wan.answering)
    assert wan.stats()["held"] > 0  # chunks were held on the way, and every host still answered

    wan.reset()
    started = time.monotonic()
    second = {row["host"]: row for row in shell.fails(line.replace("echo up", "echo again")).json}
    assert {h for h, row in second.items() if row["error"]} == set(refused + silent)
    assert all(second[h]["stdout"] == "again\n" for h in wan.answering)
    assert wan.logins() - logins == len(wan.answering)  # no new login: the kept connections ran it
    assert set(wan.stats()["accepted"]) == set(silent)  # the only new connection: the silent host
    assert time.monotonic() - started < TIMEOUT + 2


def test_a_rerun_on_failed_touches_only_the_failed_hosts(wan: Wan, shell: Shell) -> None:
    shell.fails(f"run {fold(wan.addresses)} --timeout {TIMEOUT} -- true")
    logins = wan.logins()
    wan.reset()
    rows = shell.fails(f"run @failed --timeout {TIMEOUT} --format json -- true").json
    assert sorted(row["host"] for row in rows) == sorted(wan.of("refuse") + wan.of("silent"))
    assert set(wan.stats()["accepted"]) == set(wan.of("silent"))
    assert wan.logins() == logins


def opsh_under(limits: tuple[int, int], lines: list[str], wan: Wan, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`opsh SCRIPT` with these (soft, hard) open-files limits, as a user whose system sets them."""
    script = tmp_path / "fleet.opsh"
    script.write_text("\n".join(lines) + "\n")
    files = wan.write_client(tmp_path / "ssh")
    env = clean_env(tmp_path / "home", **files.env)
    env.pop("SSH_AUTH_SOCK", None)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, limits)

    return subprocess.run(
        [opsh_binary(), str(script)], env=env, preexec_fn=limited, capture_output=True, text=True, timeout=60
    )


def test_a_soft_limit_too_low_for_the_fleet_is_raised_and_every_connection_kept(wan: Wan, tmp_path: Path) -> None:
    hosts = fold(wan.answering)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    logins = wan.logins()
    done = opsh_under((40, hard), [f"run {hosts} --fanout 4 -- true"] * 2, wan, tmp_path)
    assert done.returncode == 0, done.stderr
    assert wan.logins() - logins == len(wan.answering)  # the second run logged in nowhere


def test_a_hard_limit_too_low_keeps_what_fits_and_closes_the_least_recently_used(wan: Wan, tmp_path: Path) -> None:
    from opsh.commands.ssh.transport.openfiles import PER_RUNNING, RESERVE

    limit, fanout = 85, 4
    fits = limit - RESERVE - PER_RUNNING * fanout
    assert 0 < fits < len(wan.answering)
    hosts = fold(wan.answering)
    logins = wan.logins()
    first = opsh_under((limit, limit), [f"run {hosts} --fanout {fanout} -- true"], wan, tmp_path)
    assert first.returncode == 0, first.stderr
    assert wan.logins() - logins == len(wan.answering)
    logins = wan.logins()
    both = opsh_under((limit, limit), [f"run {hosts} --fanout {fanout} -- true"] * 2, wan, tmp_path)
    assert both.returncode == 0, both.stderr
    # The second run found the `fits` connections kept last and logged in to the others only.
    assert wan.logins() - logins == len(wan.answering) + len(wan.answering) - fits


def test_a_copy_that_closes_connections_for_room_says_so_itself(
    wan: Wan, shell: Shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsh.commands.ssh.transport import openfiles

    monkeypatch.setattr(openfiles, "capacity", lambda running: 5)  # as a low open-files limit would
    (tmp_path / "motd").write_text("maintenance at noon\n")
    shell.ok(f"copy {tmp_path / 'motd'} {fold(wan.answering)}:{wan.hosts.remote_dir()}/ --fanout 4")
    closed = f"{len(wan.answering) - 5} least recently used connections closed for room"
    assert closed in shell.session.last.status  # each host's connection is handed back, then evicted
    shell.ok(f"run {wan.answering[0]} -- true")
    assert closed not in shell.session.last.status  # the copy's evictions are the copy's to report
