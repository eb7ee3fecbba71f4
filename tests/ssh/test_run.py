"""`run` against twenty real sshd hosts: streaming, timeouts, grouping, @failed, JSON."""

from __future__ import annotations

import subprocess
import time

import pytest

from opsh.commands.ssh.exec.outcome import HostResult
from opsh.commands.ssh.state import ssh_state
from tests.servers.base import wait_until
from tests.ssh.conftest import DOWN_ADDRESS

# Every "host" is this machine; the server address in $SSH_CONNECTION tells them apart.
ON_WEB04 = 'case " $SSH_CONNECTION " in *" 127.0.0.5 "*) {} ;; esac'


def records(sh, line: str) -> list[dict]:
    """Per-host records of a `run --format json` line (which fails when a host failed)."""
    return sh(line).json


@pytest.fixture
def odd_hosts(client_files, hanging_server):
    """web01..web20, plus `down` (nothing listens) and `hang` (accepts, never speaks)."""
    return client_files(
        extra=f"Host down\n    HostName {DOWN_ADDRESS}\n\n"
        f"Host hang\n    HostName {hanging_server.address}\n    Port {hanging_server.port}\n"
    )


def test_twenty_hosts_with_one_down_and_one_hanging(sh, odd_hosts):
    started = time.monotonic()
    out = sh("run web[01-18],down,hang --timeout 2 -- uptime")
    elapsed = time.monotonic() - started
    assert not out.ok  # two hosts failed, the others still ran
    streamed = [line for line in out.lines if " | " in line and "load average" in line]
    assert len(streamed) == 18
    assert any(line.startswith("web01 | ") for line in streamed)
    assert any(line.startswith("down  | connection refused") for line in out.lines)
    assert any(line.startswith("hang  | ") and "timed out" in line for line in out.lines)
    assert elapsed < 8, f"hosts were not handled in parallel ({elapsed:.1f}s)"
    table = [line for line in out.lines if line.startswith("| web") or line.startswith("| down")]
    assert len(table) == 19


def test_json_gives_one_record_per_host(sh, odd_hosts):
    rows = records(sh, "run web[01-03],down --format json -- 'echo out-$((1+1)); echo err >&2; exit 5'")
    assert [r["host"] for r in rows] == ["web01", "web02", "web03", "down"]
    assert rows[0] == {"host": "web01", "exit": 5, "seconds": rows[0]["seconds"], "error": None,
                       "stdout": "out-2\n", "stderr": "err\n"}  # fmt: skip
    assert rows[3]["exit"] is None and rows[3]["error"] == "connection refused"


def test_command_past_the_timeout_is_stopped_on_the_server(sh, ssh_client, sshd_hosts):
    out = records(sh, "run web[01-06] --timeout 2 --format json -- '" + ON_WEB04.format("sleep 61.5") + "; echo done'")
    by_host = {r["host"]: r for r in out}
    assert by_host["web04"]["error"] == "timed out after 2s (stopped)"
    assert all(by_host[h]["stdout"] == "done\n" for h in ("web01", "web02", "web03", "web05", "web06"))
    wait_until(lambda: not sshd_hosts.user_processes("sleep 61.5"), 10, "the remote sleep to be killed")


def test_group_merges_identical_output(sh, ssh_client):
    out = sh("run web[01-20] --group -- '" + ON_WEB04.format("echo odd; exit 2") + "; echo same'")
    assert not out.ok
    assert "web[01-03,05-20] (19)" in out.lines
    assert "web04 (1)  exit 2" in out.lines
    first = out.lines.index("web[01-03,05-20] (19)")
    assert out.lines[first + 2] == "same"


def test_failed_and_ok_follow_the_last_run(sh, ssh_client):
    sh.fails("run web[01-08] -- '" + ON_WEB04.format("exit 1") + "'")
    assert [r["name"] for r in sh.json("hosts @failed")] == ["web04"]
    assert len(sh.json("hosts @ok")) == 7
    rows = sh.json("run @failed --format json -- echo retry")
    assert [(r["host"], r["stdout"]) for r in rows] == [("web04", "retry\n")]


def test_targets_with_exclusions_users_and_local(sh, ssh_client, sshd_hosts, tmp_path):
    (tmp_path / "marker").write_text("")
    targets = f"web[01-04],local,{sshd_hosts.user}@web05 -x web02 --exclude web03"
    rows = records(sh, f"run {targets} --format json -- ls marker")
    assert [r["host"] for r in rows] == ["web01", "web04", "local", f"{sshd_hosts.user}@web05"]
    assert [r["exit"] for r in rows] == [2, 2, 0, 2]  # `marker` exists only here


def test_unknown_host_key_fails_only_that_host(sh, client_files, sshd_hosts):
    files = client_files(known=[a for a in sshd_hosts.addresses[:3] if a != sshd_hosts.addresses[1]])
    rows = records(sh, "run web[01-03] --format json -- true")
    assert [r["exit"] for r in rows] == [0, None, 0]
    assert rows[1]["error"].startswith("unknown host key for web02")
    rows = sh.json("run web[01-03] --accept-new --format json -- true")
    assert [r["exit"] for r in rows] == [0, 0, 0]
    assert f"[{sshd_hosts.addresses[1]}]:{sshd_hosts.port}" in files.known_hosts.read_text()


def test_interactive_run_asks_one_password_for_all_hosts(asking, client_files, sshd_hosts):
    client_files(key=False)
    sh = asking(sshd_hosts.password)
    rows = sh.json("run web[01-05] --format json -- whoami")
    assert [r["stdout"] for r in rows] == [f"{sshd_hosts.user}\n"] * 5
    assert len(sh.io.asked) == 1 and "every host of this run" in sh.io.asked[0]


def test_connections_are_reused_by_the_next_run(sh, ssh_client):
    sh.ok("run web[01-03] -- true")
    pool = ssh_state(sh.session).pool
    before = dict(pool.transports)
    assert len(before) == 3
    assert sh("run web[01-03] -- true").ok
    assert pool.transports == before
    sh.ok("set ssh_persist 0")
    assert sh("run web[01-03] -- true").ok
    sh.ok("run web01 -- true")  # expiry happens when the pool is next used
    assert len(pool) == 1


def test_run_needs_a_command_and_hosts(sh, ssh_client):
    assert sh("run web01").exit_code == 2
    assert "no hosts left" in sh("run web01 -x web01 -- true").err
    assert "unknown group" in sh("run @nope -- true").err


def test_unknown_host_keys_in_an_interactive_run_yes_to_all(asking, client_files, sshd_hosts):
    files = client_files(known=[])
    sh = asking("a")
    rows = records(sh, "run web[01-04] --format json -- true")
    assert [r["exit"] for r in rows] == [0, 0, 0, 0]
    assert len(sh.io.asked) == 1 and "SHA256:" in sh.io.asked[0]
    assert len(files.known_hosts.read_text().splitlines()) == 4


def test_an_encrypted_key_is_unlocked_once_before_the_run_starts(asking, client_files, sshd_hosts):
    client_files(identity=sshd_hosts.encrypted_key)
    sh = asking(sshd_hosts.passphrase)
    rows = records(sh, "run web[01-06] --format json -- echo ok")
    assert [r["stdout"] for r in rows] == ["ok\n"] * 6
    assert sh.io.asked == [f"passphrase for key {sshd_hosts.encrypted_key}: "]


def test_json_and_csv_keep_the_bytes_the_host_sent(sh, ssh_client):
    rows = records(sh, "run web01 --format json -- \"printf 'a\\nb'; printf 'e\\r\\n' >&2\"")
    assert rows[0]["stdout"] == "a\nb" and rows[0]["stderr"] == "e\r\n"
    out = sh.ok("run web01 --format csv -- \"printf 'x\\ny'\"")
    assert out.text.endswith(',"x\ny",\n')


def test_remote_stderr_is_marked_without_colour(sh, ssh_client):
    out = sh.ok("run web[01-02] -- 'echo to-out; echo to-err >&2'")
    assert "web01 | to-out" in out.lines and "web01 ! to-err" in out.lines
    out = sh.ok("run web[01-02] --group -- 'echo to-out; echo to-err >&2'")
    assert "to-out" in out.lines and "! to-err" in out.lines


def test_summary_table_shortens_long_errors_json_keeps_them(sh, client_files, sshd_hosts):
    client_files(known=[])
    out = sh("run web01 -- true")
    row = next(line for line in out.lines if line.startswith("| web01"))
    assert len(row) < 120 and "…" in row
    assert any(line.startswith("web01 | unknown host key for web01") and "--accept-new" in line for line in out.lines)
    full = records(sh, "run web01 --format json -- true")[0]["error"]
    assert full.startswith("unknown host key for web01") and full.endswith("or add --accept-new)")


def test_a_changed_key_in_run_names_the_remedy(sh, client_files, sshd_hosts, tmp_path):
    files = client_files()
    other = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    forged = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    files.known_hosts.write_text(files.known_hosts.read_text().replace(sshd_hosts.host_key_line, forged, 1))
    error = records(sh, "run web01 --accept-new --format json -- true")[0]["error"]
    assert "HOST KEY CHANGED for web01" in error
    assert f"ssh-keygen -R '[{sshd_hosts.addresses[0]}]:{sshd_hosts.port}' -f {files.known_hosts}" in error


@pytest.mark.parametrize("pattern", ["[127.0.0.*]:{port}", "[127.0.0.?]:{port}", "[127.0.0.[2-9]]:{port},*"])
def test_known_hosts_wildcards_match_as_openssh_reads_them(sh, client_files, sshd_hosts, pattern):
    files = client_files(known=[])
    written = pattern.format(port=sshd_hosts.port)
    files.known_hosts.write_text(f"{written} {sshd_hosts.host_key_line}\n")
    rows = records(sh, "run web[01-03] --format json -- true")
    if "[2-9]" in written:  # literal brackets: only the `*` of the list matches
        assert [r["exit"] for r in rows] == [0, 0, 0]
    else:
        assert [r["exit"] for r in rows] == [0, 0, 0], rows
    assert files.known_hosts.read_text() == f"{written} {sshd_hosts.host_key_line}\n"


def test_known_hosts_negation_wins(sh, client_files, sshd_hosts):
    files = client_files(known=[])
    first = sshd_hosts.addresses[0]
    patterns = f"[127.0.0.*]:{sshd_hosts.port},![{first}]:{sshd_hosts.port}"
    files.known_hosts.write_text(f"{patterns} {sshd_hosts.host_key_line}\n")
    rows = records(sh, "run web[01-02] --format json -- true")
    assert rows[0]["error"].startswith("unknown host key for web01") and rows[1]["exit"] == 0


def test_a_host_whose_command_was_killed_was_reached(sh, ssh_client):
    from opsh.commands.ssh.exec.gather import status_line

    line = "run web[01-02] --format json -- '" + 'case " $SSH_CONNECTION " in *" 127.0.0.2 "*) kill -9 $$ ;; esac' + "'"
    rows = records(sh, line)
    assert rows[0]["error"] == "killed by a signal" and rows[1]["exit"] == 0
    results = [HostResult(r["host"], r["exit"], r["error"], reached=True) for r in rows]
    assert status_line(results, 1).endswith("1 ok, 1 killed")


def test_connect_to_a_bare_address_is_ssh(sh, ssh_client, sshd_hosts):
    out = sh(f"connect {sshd_hosts.addresses[4]}")
    assert out.ok, out.err
    assert sh.session.current_handle.kind == "ssh"
    assert sh("echo $SSH_CONNECTION").text.split()[2] == sshd_hosts.addresses[4]
    sh.ok("\\q")
    assert sh(f"connect {sshd_hosts.user}@{sshd_hosts.addresses[5]} as five").ok
    sh.ok("\\q")
    assert "unknown connection" in sh("connect nosuchname").err
