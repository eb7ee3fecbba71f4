"""Unknown host keys in a run or a copy: asked about once for all the hosts that have one (a
table of their fingerprints; yes to all, no to all, or one by one), never one host at a time
while the others stream, and never held back for long by a host that does not answer."""

from __future__ import annotations

import time

import pytest

from tests.ssh.test_run import records

QUESTION = "Trust them? [y=yes to all / N=no to all / o=one by one] "


def known_lines(files) -> list[str]:
    return files.known_hosts.read_text().splitlines()


def test_one_table_for_every_unknown_host_and_yes_to_all(asking, client_files, sshd_hosts):
    files = client_files(known=sshd_hosts.addresses[3:])  # web04 and later are known
    sh = asking("y")
    rows = records(sh, "run web[01-06] --format json -- true")
    assert [r["exit"] for r in rows] == [0] * 6
    assert len(sh.io.asked) == 1 and sh.io.asked[0].endswith(QUESTION)
    table = sh.io.asked[0].splitlines()
    assert table[0].startswith("3 hosts have keys that are not in known_hosts")
    assert table[1].split() == ["host", "known_hosts", "name", "key", "fingerprint"]
    for n, line in enumerate(table[2:5], 1):
        address = sshd_hosts.addresses[n - 1]
        assert line.split()[:3] == [f"web0{n}", f"[{address}]:{sshd_hosts.port}", "ssh-ed25519"]
        assert line.split()[3].startswith("SHA256:")
    assert len(known_lines(files)) == len(sshd_hosts.addresses)  # the 17 known, and these 3


def test_no_to_all_refuses_them_and_writes_nothing(asking, client_files, sshd_hosts):
    files = client_files(known=[])
    sh = asking("n")
    rows = records(sh, "run web[01-03] --format json -- true")
    assert [r["exit"] for r in rows] == [None] * 3
    assert all(r["error"].startswith(f"host key for {r['host']} ") and "not trusted" in r["error"] for r in rows)
    assert len(sh.io.asked) == 1 and known_lines(files) == []


def test_one_by_one_asks_each_host_after_the_table(asking, client_files, sshd_hosts):
    files = client_files(known=[])
    sh = asking("o", "y", "no", "yes")
    rows = records(sh, "run web[01-03] --format json -- true")
    assert [r["exit"] for r in rows] == [0, None, 0]
    assert len(sh.io.asked) == 4 and sh.io.asked[0].endswith(QUESTION)
    for n, question in enumerate(sh.io.asked[1:], 1):
        assert question.startswith(f"The authenticity of web0{n} ([{sshd_hosts.addresses[n - 1]}]:")
        assert question.endswith("Trust it? [y/N] ")
    assert len(known_lines(files)) == 2


@pytest.mark.parametrize(("answer", "exits"), [("y", [0] * 4), ("n", [None] * 4)])
def test_hosts_that_connect_later_follow_the_answer_to_all(asking, client_files, sshd_hosts, answer, exits):
    """With --fanout 2 the last two hosts connect after the question: no second question."""
    client_files(known=[])
    sh = asking(answer)
    rows = records(sh, "run web[01-04] --fanout 2 --format json -- true")
    assert [r["exit"] for r in rows] == exits and len(sh.io.asked) == 1


def test_a_host_that_hangs_holds_the_question_only_briefly(asking, client_files, sshd_hosts, hanging_server):
    client_files(
        known=[],
        extra=f"Host hang\n    HostName {hanging_server.address}\n    Port {hanging_server.port}\n",
    )
    sh = asking("y")
    asked_at: list[float] = []
    ask = sh.io.ask

    def timed_ask(prompt: str) -> str:
        asked_at.append(time.monotonic())
        return ask(prompt)

    sh.io.ask = timed_ask  # type: ignore[method-assign]
    started = time.monotonic()
    rows = records(sh, "run web[01-03],hang --timeout 8 --format json -- true")
    assert [r["exit"] for r in rows] == [0, 0, 0, None] and "timed out" in rows[3]["error"]
    assert asked_at[0] - started < 5  # not the 8 s the hanging host takes to time out
    assert "3 hosts have keys" in sh.io.asked[0]


def test_copy_asks_the_same_way(asking, client_files, sshd_hosts, remote_dir, tmp_path):
    files = client_files(known=[])
    (tmp_path / "a.txt").write_text("a\n")
    sh = asking("y")
    sh.ok(f"copy a.txt web[01-03]:{remote_dir}/")  # the same file thrice: renamed into place
    assert len(sh.io.asked) == 1 and "3 hosts have keys" in sh.io.asked[0]
    assert len(known_lines(files)) == 3
    assert (remote_dir / "a.txt").read_text() == "a\n"


def test_a_script_is_never_asked(sh, client_files, sshd_hosts):
    files = client_files(known=[])
    rows = records(sh, "run web[01-03] --format json -- true")
    assert all("--accept-new" in r["error"] for r in rows) and known_lines(files) == []
