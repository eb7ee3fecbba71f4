"""`run --via`: twenty leaf hosts behind a real ClusterShell gateway (tests/servers/gateway.py).

Every "host" is this machine: a leaf tells who it is by the server address in $SSH_CONNECTION,
and the client address there is the gateway's own (its ssh binds 127.0.2.2), the proof that
the command came through the gateway and not from opsh directly.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Shell
from tests.servers.base import wait_until
from tests.servers.gateway import Fleet

CONNECTION = "'echo $SSH_CONNECTION'"


@pytest.fixture
def head(tmp_path: Path, fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Shell]:
    """head(config_extra="", leaves=False) -> an opsh session on the head: the gateway `gw` in
    its ssh config (and the leaves, with `leaves`), [groups] leaves and [topology] in its config."""
    shells: list[Shell] = []

    def make(config_extra: str = "", leaves: bool = False, ssh_extra: str = "") -> Shell:
        files = fleet.write_client(tmp_path / f"head{len(shells)}", leaves=leaves, extra=ssh_extra)
        for name, value in files.env.items():
            monkeypatch.setenv(name, value)
        shell = Shell(tmp_path / f"s{len(shells)}", config=fleet.config(config_extra))
        shells.append(shell)
        return shell

    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    yield make  # type: ignore[misc]
    for shell in shells:
        shell.close()


@pytest.fixture
def sh_gw(head: Callable[..., Shell]) -> Shell:
    return head()


def streamed(out_lines: list[str]) -> dict[str, list[str]]:
    """host -> the lines it printed (`leaf01 | text`)."""
    seen: dict[str, list[str]] = {}
    for line in out_lines:
        found = re.match(r"^(leaf\d+) +\| (.*)$", line)
        if found:
            seen.setdefault(found.group(1), []).append(found.group(2))
    return seen


def test_every_leaf_answers_once_through_the_gateway(sh_gw, fleet):
    out = sh_gw.ok(f"run @leaves --via gw -- {CONNECTION}")
    lines = streamed(out.lines)
    assert sorted(lines) == fleet.leaf_names
    for name, said in lines.items():
        assert len(said) == 1
        client, _, server, _ = said[0].split()
        assert (client, server) == (fleet.gateway.addresses[0], fleet.address_of(name))
    assert len([line for line in out.lines if line.startswith("| leaf")]) == 20  # the summary table


def test_hostname_through_the_gateway(sh_gw, fleet):
    hostname = subprocess.run(["hostname"], capture_output=True, text=True).stdout.strip()
    lines = streamed(sh_gw.ok("run @leaves --via gw -- hostname").lines)
    assert lines == {name: [hostname] for name in fleet.leaf_names}


def test_a_leaf_that_is_down_lands_in_failed(sh_gw, fleet):
    out = sh_gw.fails(f"run @leaves,{fleet.down_name} --via gw -- true")
    assert f"{fleet.down_name} | connection refused" in out.lines
    assert sh_gw.session.last.status.startswith("21 hosts in ")
    assert sh_gw.session.last.status.endswith(": 20 ok, 1 not reached")
    assert [r["name"] for r in sh_gw.json("hosts @failed")] == [fleet.down_name]
    rows = sh_gw("run @failed --via gw --format json -- echo retry").json
    assert [(r["host"], r["exit"], r["error"]) for r in rows] == [(fleet.down_name, None, "connection refused")]
    assert len(sh_gw.json("hosts @ok")) == 0


def test_exit_codes_stdout_and_stderr_per_leaf(sh_gw, fleet):
    line = "run leaf[01-03] --via gw --format json -- 'echo out-$((1+1)); echo err >&2; exit 5'"
    rows = sh_gw(line).json
    assert [r["host"] for r in rows] == ["leaf01", "leaf02", "leaf03"]
    assert all((r["exit"], r["error"], r["stdout"], r["stderr"]) == (5, None, "out-2\n", "err\n") for r in rows)


def without_seconds(text: str) -> str:
    """A run's report with the times taken out (they differ from run to run)."""
    text = re.sub(r"\| +\d+\.\d+ \|", "| S |", text)
    text = re.sub(r"in \d+\.\d\ds", "in Ss", text)
    return re.sub(r"-{3,}", "---", text)


@pytest.mark.parametrize(
    "options, command",
    [
        ("--group", "'echo same; case $SSH_CONNECTION in *\" 127.0.1.4 \"*) echo odd; exit 2;; esac'"),
        ("--group", "'echo one; echo two; exit 0'"),
        ("--format json", "'echo a; exit 4'"),
        ("--format csv", "'echo x; echo y'"),
        ("", "'exit 3'"),
    ],
)
def test_the_report_is_the_one_a_direct_run_gives(head, options, command):
    """The same command on the same leaves, straight from opsh and through the gateway: the
    same rendered report (times aside)."""
    sh = head(leaves=True)
    direct = sh(f"run leaf[01-05] {options} -- {command}")
    direct_status = sh.session.last.status
    routed = sh(f"run leaf[01-05] --via gw {options} -- {command}")
    assert (routed.ok, routed.exit_code) == (direct.ok, direct.exit_code)
    assert without_seconds(sh.session.last.status) == without_seconds(direct_status)
    if "json" in options:
        strip = [{k: v for k, v in r.items() if k != "seconds"} for r in routed.json]
        assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in direct.json]
    elif "csv" in options:
        assert [row.split(",")[:2] + row.split(",")[3:] for row in routed.lines] == [
            row.split(",")[:2] + row.split(",")[3:] for row in direct.lines
        ]
    else:
        assert without_seconds(routed.text) == without_seconds(direct.text)


def test_a_command_past_the_timeout_is_stopped_on_the_leaf(sh_gw, fleet):
    rows = sh_gw("run leaf[01-03] --via gw --timeout 2 --format json -- 'echo started; sleep 61.7'").json
    assert [(r["error"], r["stdout"]) for r in rows] == [("timed out after 2s (stopped)", "started\n")] * 3
    wait_until(lambda: not fleet.user_processes("^sleep 61.7"), 10, "the leaves' sleeps to be stopped")


def test_topology_in_the_config_routes_the_leaves_and_keeps_the_gateway_direct(head, fleet):
    sh = head('[topology.routes]\ngw = "leaf[01-20]"\n')
    rows = sh.json(f"run gw,leaf[01-02] --format json -- {CONNECTION}")
    clients = {r["host"]: r["stdout"].split()[0] for r in rows}
    assert clients == {"gw": "127.0.0.1", "leaf01": fleet.gateway.addresses[0], "leaf02": fleet.gateway.addresses[0]}


def test_topology_conf_style_routes_with_this_machine_as_root(head, fleet):
    import socket

    here = socket.gethostname().split(".")[0]
    sh = head(f'[topology.routes]\n"{here}" = "gw"\ngw = "@leaves"\n')
    rows = sh.json(f"run leaf[19-20] --format json -- {CONNECTION}")
    assert [r["stdout"].split()[0] for r in rows] == [fleet.gateway.addresses[0]] * 2


def test_a_gateway_that_is_down_fails_every_leaf_behind_it(head, fleet):
    sh = head(ssh_extra="Host gwdown\n    HostName 127.0.2.250\n")
    rows = sh("run leaf[01-03] --via gwdown --accept-new --format json -- true").json
    assert [(r["exit"], r["error"]) for r in rows] == [(None, "gateway gwdown: connection refused")] * 3
    assert [r["name"] for r in sh.json("hosts @failed")] == ["leaf01", "leaf02", "leaf03"]


def test_a_gateway_without_the_named_python_says_so(head):
    sh = head('gateway_python = "/nowhere/python3"\n')
    rows = sh("run leaf[01-02] --via gw --format json -- true").json
    assert [r["error"] for r in rows] == ["gateway gw: /nowhere/python3 not found on the gateway"] * 2


def test_a_gateway_that_goes_silent_is_given_up(head, fleet):
    """A gateway that logs in and then never answers: the head stops waiting after twice the
    timeout and a margin of silence (ClusterShell has no timeout for a gateway's channel)."""
    import shutil
    import tempfile
    import time

    from tests.servers.sshd import chown_to_test_user

    where = Path(tempfile.mkdtemp(prefix="opsh-silent-gw-"))
    try:
        where.chmod(0o755)
        python = where / "python3"
        python.write_text("#!/bin/sh\nexec sleep 63.9\n")
        python.chmod(0o755)
        chown_to_test_user(python)
        sh = head(f'gateway_python = "{python}"\n')
        started = time.monotonic()
        rows = sh("run leaf[01-02] --via gw --timeout 1 --format json -- true").json
        assert time.monotonic() - started < 15
        assert [r["error"] for r in rows] == ["timed out after 1s (no answer through the gateway)"] * 2
    finally:
        for line in fleet.gateway.user_processes("^sleep 63.9"):
            subprocess.run(["kill", line.split()[0]])
        shutil.rmtree(where, ignore_errors=True)


def test_an_unknown_gateway_key_is_refused_before_anything_runs(head, fleet, tmp_path):
    sh = head()
    known = tmp_path / "head0" / "known_hosts"
    known.write_text("")
    out = sh.fails("run leaf01 --via gw -- true", "unknown host key for gateway gw")
    assert "--accept-new" in out.err
    rows = sh("run leaf01 --via gw --accept-new --format json -- echo ok").json
    assert rows[0]["stdout"] == "ok\n"
    assert f"[{fleet.gateway.addresses[0]}]:{fleet.gateway.port}" in known.read_text()


def test_users_and_local_behind_a_gateway(sh_gw, fleet, tmp_path):
    sh_gw.fails(f"run {fleet.user}@leaf01 --via gw -- true", "no user can be given for a host behind a gateway")
    (tmp_path / "s0" / "marker").write_text("")
    rows = sh_gw("run local,leaf01 --via gw --format json -- ls marker").json
    assert [(r["host"], r["exit"]) for r in rows] == [("local", 0), ("leaf01", 2)]


def test_without_clustershell_the_error_names_the_extra(sh_gw, monkeypatch):
    import opsh.commands.ssh.gateways as package

    for name in [m for m in sys.modules if m.split(".")[0] == "ClusterShell"] + ["ClusterShell"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "opsh.commands.ssh.gateways.engine", raising=False)
    monkeypatch.delattr(package, "engine", raising=False)
    out = sh_gw.fails("run leaf01 --via gw -- true", "needs ClusterShell")
    assert out.err.strip().count("\n") == 0 and "pip install 'opsh[fleet]'" in out.err
    assert sh_gw("run local -- true").ok  # a direct run never needs it


def test_a_direct_run_does_not_import_clustershell(tmp_path, fleet):
    """Even with [topology] configured, a run whose targets no route names stays direct."""
    config = fleet.config('[topology.routes]\ngw = "leaf[01-20]"\n')
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tests.helpers import Shell\n"
        f"sh = Shell(Path({str(tmp_path)!r}), config={config!r})\n"
        "assert sh('run local -- true').ok\n"
        "print(any(m.startswith('ClusterShell') for m in sys.modules))\n"
        "sh.close()\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root)
    assert out.stdout.split() == ["False"], out.stderr
