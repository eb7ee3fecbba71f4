"""Questions and Ctrl-C of a fleet command in a real terminal: `run --sudo` asks its password
once, hidden; unknown host keys are asked about once, and text typed while the command ran
is never taken as the answer; Ctrl-C during SFTP pulls from several hosts prints no
traceback over the result."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.term import PROMPT_END, Term
from tests.servers.base import wait_until
from tests.servers.sshd import SshHosts
from tests.ssh.conftest import HangingServer, web_aliases

pytestmark = pytest.mark.e2e


def started(tmp_path: Path, sshd_hosts: SshHosts, **client: object) -> Term:
    files = sshd_hosts.write_client(tmp_path / "ssh", aliases=web_aliases(sshd_hosts), **client)  # type: ignore[arg-type]
    term = Term.start(tmp_path / "home", cwd=tmp_path, **files.env)
    term.expect_prompt()
    return term


@pytest.fixture
def term(tmp_path: Path, sshd_hosts: SshHosts) -> Iterator[Term]:
    session = started(tmp_path, sshd_hosts)
    yield session
    session.close()


@pytest.fixture
def hanging() -> Iterator[HangingServer]:
    server = HangingServer()
    yield server
    server.close()


def test_run_sudo_asks_once_hidden_and_every_host_runs_as_root(term, sshd_hosts):
    term.send("run web[01-05] --sudo -- id -u\r")
    term.expect(re.escape(f"[sudo] password for {sshd_hosts.user} on web"), timeout=20)
    term.send(sshd_hosts.password + "\r")
    out = term.expect_prompt(timeout=20)
    assert sorted(re.findall(r"^web0\d \| 0$", out, re.M)) == [f"web0{n} | 0" for n in range(1, 6)], out
    assert "5 hosts in" in out and "5 ok" in out
    assert sshd_hosts.password not in out  # not echoed
    assert "[sudo] password" not in out  # asked once: no second question came after the answer


def test_unknown_keys_are_asked_once_and_text_typed_ahead_is_no_answer(tmp_path, sshd_hosts, hanging):
    extra = f"Host hang\n    HostName {hanging.address}\n    Port {hanging.port}\n"
    term = started(tmp_path, sshd_hosts, known=[], extra=extra)
    try:
        # `hang` neither asks nor finishes: the question waits for it a moment, and meanwhile
        # the person types ahead (a yes, which must not count)
        term.send("run web[01-03],hang --timeout 6 -- echo reached\r")
        term.expect(re.escape(PROMPT_END))
        term.send("y\r")
        asked = term.expect(re.escape("Trust them? [y=yes to all / N=no to all / o=one by one] "), timeout=15)
        assert "3 hosts have keys that are not in known_hosts" in asked
        assert len(re.findall(r"^\s+web0[123]\s+\[127\.0\.0\.[234]\]:\d+\s+ssh-ed25519\s+SHA256:", asked, re.M)) == 3
        term.send("n\r")
        out = term.expect_prompt(timeout=20)
        refused = re.findall(r"^web0[123] \| host key for web0[123] \(.*\) not trusted: SHA256:", out, re.M)
        assert len(refused) == 3 and "| reached" not in out, out
        assert (tmp_path / "ssh" / "known_hosts").read_text() == ""
        assert "unknown command" not in term.run("echo alive")  # the `y` was thrown away, not run
    finally:
        term.close()


def test_ctrl_c_during_pulls_from_three_hosts_prints_no_traceback(term, sshd_hosts, tmp_path):
    remote = sshd_hosts.remote_dir()
    try:
        with open(remote / "big.bin", "wb") as out:
            for _ in range(200):
                out.write(b"\x5a" * 1_000_000)
        shown = ""
        for attempt in range(3):
            dest = tmp_path / f"got{attempt}"
            term.send(f"copy web[01-03]:{remote}/big.bin got{attempt}/\r")
            wait_until(lambda d=dest: sum(p.stat().st_size for p in d.rglob("*.part")) > 5_000_000, 20, "pulls")
            term.ctrl("c")
            out = term.expect_prompt(timeout=20)
            assert "interrupted" in out and all(f"web0{n}" in out for n in (1, 2, 3)), out
            assert list(dest.rglob("*.part")) == []
            shown += out
        shown += term.run("echo alive")
        assert "alive" in shown
        for word in ("Traceback", "Exception", "Socket is closed", "_prefetch_thread"):
            assert word not in shown, shown
    finally:
        shutil.rmtree(remote, ignore_errors=True)


def test_ctrl_c_stops_a_command_run_through_sudo(term, sshd_hosts):
    def sleeping() -> list[str]:
        out = subprocess.run(["pgrep", "-u", "root", "-a", "-f", "^sleep 61.7"], capture_output=True, text=True)
        return out.stdout.splitlines()

    term.send(f"run {sshd_hosts.nopasswd_user}@web[01-03] --sudo -- 'sleep 61.7'\r")
    wait_until(lambda: len(sleeping()) == 3, 20, "three sleeps as root")
    term.ctrl("c")
    out = term.expect_prompt(timeout=15)
    assert "interrupted" in out and "cancelled" in out
    wait_until(lambda: not sleeping(), 10, "the sleeps to end")
