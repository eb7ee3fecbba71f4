"""`run --via` without hosts: routes, the leaf's command line, the head's ssh to a gateway,
OpenSSH's messages, the [topology] config, and opsh's host ranges beside ClusterShell's
NodeSet (the real gateway tests are tests/ssh/test_gateways.py)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from opsh.commands.shared.nodeset import expand
from opsh.commands.ssh.gateways import topology
from opsh.commands.ssh.gateways.head import gateway_argv, ssh_message
from opsh.commands.ssh.gateways.leaf import new_mark, wrapped
from opsh.commands.ssh.hosts.hostspec import HostSpec
from opsh.shell.config import Config, Paths
from opsh.shell.errors import OpshError, UsageError


def plain_expand(expression: str) -> list[str]:
    return [name for item in expression.split(",") for name in expand(item)]


# -- routes --


def test_via_routes_everything_but_local_and_the_gateways():
    routing = topology.via(["web1", "local", "gw", "web2"], ["deploy@gw"])
    assert routing is not None
    assert routing.routed == ("web1", "web2")
    assert routing.hops == ("deploy@gw",)
    assert [(r.sources, r.destinations) for r in routing.routes] == [
        ((topology.HEAD,), ("gw",)),
        (("gw",), ("web1", "web2")),
    ]


def test_via_with_nothing_behind_the_gateway_runs_directly():
    assert topology.via(["local", "gw"], ["gw"]) is None


def test_no_user_for_a_host_behind_a_gateway():
    with pytest.raises(UsageError, match="no user can be given"):
        topology.via(["root@web1"], ["gw"])


def test_configured_routes_pick_the_hosts_under_a_gateway():
    routes = {"bastion[1-2]": "web[01-04]", "bastion3": "db[1-2]", "db1": "deep[1-3]"}
    labels = ["web02", "db1", "deep2", "bastion1", "other"]
    routing = topology.configured(labels, routes, plain_expand, hostname="admin")
    assert routing is not None
    assert routing.root == topology.HEAD
    assert routing.routed == ("web02", "db1", "deep2")  # bastion1 is a first hop, `other` in no route
    assert routing.hops == ("bastion1", "bastion2", "bastion3")
    assert routing.routes[0].destinations == ("bastion1", "bastion2", "bastion3")


def test_a_topology_conf_with_this_machine_as_root():
    routes = {"admin": "gw[1-2]", "gw[1-2]": "n[1-9]"}
    routing = topology.configured(["n3", "gw1"], routes, plain_expand, hostname="admin")
    assert routing is not None
    assert (routing.root, routing.routed, routing.hops) == ("admin", ("n3",), ("gw1", "gw2"))
    assert [r.sources for r in routing.routes] == [("admin",), ("gw1", "gw2")]


def test_configured_routes_that_name_no_target():
    assert topology.configured(["web1"], {"gw": "db[1-3]"}, plain_expand, hostname="h") is None


# -- the leaf's command line, run by a local shell as sshd would run it --


def run_wrapped(command: str, close_stdin_after: float | None = None) -> tuple[int, str, str]:
    """(status, stdout, stderr) of the leaf's line; its stdin is a pipe held open, as the
    gateway's ssh holds the session's, and closed after `close_stdin_after` seconds."""
    import os
    import threading

    mark = new_mark()
    reader, writer = os.pipe()
    proc = subprocess.Popen(
        ["bash", "-c", wrapped(command, mark)],
        stdin=reader,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # as sshd gives a session its own process group
    )
    os.close(reader)
    if close_stdin_after is not None:
        threading.Timer(close_stdin_after, os.close, (writer,)).start()
    try:
        out, err = proc.communicate(timeout=20)
    finally:
        if close_stdin_after is None:
            os.close(writer)
    assert out.startswith(mark + "\n") and err.startswith(mark + "\n")
    return proc.returncode, out.removeprefix(mark + "\n"), err.removeprefix(mark + "\n")


def test_the_leaf_command_keeps_output_exit_status_and_quoting():
    code, out, err = run_wrapped("""printf '%s|' "it's" 'a "b"' '$HOME'; echo; echo e >&2; exit 7""")
    assert (code, out, err) == (7, 'it\'s|a "b"|$HOME|\n', "e\n")


def test_the_leaf_command_reads_an_empty_stdin_as_a_direct_run_does():
    assert run_wrapped("cat; echo done")[:2] == (0, "done\n")


def test_the_leaf_command_stops_when_the_gateway_closes_the_session():
    started = time.monotonic()
    code, out, _ = run_wrapped("echo up; sleep 30; echo never", close_stdin_after=0.5)
    assert (code, out) == (-15, "up\n") and time.monotonic() - started < 5


def test_a_leaf_command_that_ignores_term_is_killed():
    code, _, _ = run_wrapped("trap '' TERM; sleep 30", close_stdin_after=0.5)
    assert code == -9


def test_what_a_finished_command_left_running_is_left_alone():
    """As in a direct run: only a command still running when the session goes is stopped."""
    assert run_wrapped("sleep 7.31 >/dev/null 2>&1 & echo started")[:2] == (0, "started\n")
    time.sleep(0.8)  # past the watcher's grace, had it fired
    left = subprocess.run(["pgrep", "-f", "^sleep 7.31"], capture_output=True, text=True).stdout.split()
    assert len(left) == 1
    subprocess.run(["kill", *left])


# -- the head's ssh to a gateway --


def test_the_gateway_command_line_carries_opshs_host_settings(tmp_path: Path):
    spec = HostSpec(
        name="bastion",
        hostname="10.1.2.3",
        port=2222,
        user="deploy",
        identity_files=("/keys/a",),
        identities_only=True,
        proxy_jump="jump1",
        known_hosts=tmp_path / "known",
    )
    config = tmp_path / "ssh_config"
    config.write_text("")
    argv = gateway_argv(spec, "python3 -m ClusterShell.Gateway -Bu", 4.5, False, config)
    assert argv[:3] == ["ssh", "-F", str(config)]
    assert argv[-3:] == ["--", "bastion", "python3 -m ClusterShell.Gateway -Bu"]
    for option in ("-oBatchMode=yes", "-oConnectTimeout=5", "-oHostName=10.1.2.3", "-oPort=2222", "-oUser=deploy",
                   f"-oUserKnownHostsFile={tmp_path / 'known'}", "-oStrictHostKeyChecking=yes",
                   "-oIdentitiesOnly=yes", "-oProxyJump=jump1", "-oIdentityFile=/keys/a"):  # fmt: skip
        assert option in argv
    assert "-oStrictHostKeyChecking=accept-new" in gateway_argv(spec, "x", 1, True, None)


@pytest.mark.parametrize(
    "said, meant",
    [
        ("ssh: connect to host 10.0.0.9 port 22: Connection refused", "connection refused"),
        ("ssh: connect to host 10.0.0.9 port 22: Connection timed out", "timed out connecting to 10.0.0.9:22"),
        (
            "ssh: Could not resolve hostname nope: Name or service not known",
            "cannot resolve host name (Name or service not known)",
        ),  # fmt: skip
        ("deploy@10.0.0.9: Permission denied (publickey).", "permission denied (publickey) for deploy@10.0.0.9"),
        ("Host key verification failed.", "host key verification failed"),
        ("ssh: something new", "something new"),
    ],
)
def test_openssh_messages_in_opshs_words(said, meant):
    assert ssh_message(said) == meant


def test_a_gateway_without_its_python_or_clustershell():
    assert ssh_message("bash: line 1: /opt/py/bin/python3: No such file or directory", gateway=True) == (
        "/opt/py/bin/python3 not found on the gateway"
    )
    said = (
        "/usr/bin/python3: Error while finding module specification for 'ClusterShell.Gateway'"
        " (No module named 'ClusterShell')"
    )
    assert ssh_message(said, gateway=True) == "ClusterShell is not installed for the gateway's python"


# -- [topology] in the config --


def load(tmp_path: Path, text: str) -> Config:
    (tmp_path / "config.toml").write_text(text)
    return Config.load(Paths(tmp_path, tmp_path))


def test_topology_section_in_clustershell_terms(tmp_path):
    config = load(
        tmp_path,
        '[topology]\nssh_options = "-oStrictHostKeyChecking=no"\ngateway_python = "/opt/cs/bin/python3"\n\n'
        '[topology.routes]\n"bastion[1-2]" = "web[001-400]"\n',
    )
    assert config.topology.routes == {"bastion[1-2]": "web[001-400]"}
    assert config.topology.ssh_options == "-oStrictHostKeyChecking=no"
    assert config.topology.gateway_python == "/opt/cs/bin/python3"
    assert load(tmp_path, "").topology.routes == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ('[topology]\nroute = "x"\n', "unknown key in [topology]: route"),
        ("[topology.routes]\ngw = 3\n", "[topology.routes] must map gateways"),
        ("[topology]\nssh_options = 1\n", "ssh_options must be a string"),
    ],
)
def test_bad_topology_sections_are_refused(tmp_path, text, message):
    with pytest.raises(OpshError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load(tmp_path, text)


# -- opsh's host ranges beside ClusterShell's NodeSet --

RANGES = [
    "web1", "web[01-03]", "web[8-11]", "db[1,3,5-7]", "r[1-2]n[1-2].lan", "10.0.0.[9-11]",
    "node[001-100]", "web[01-20]", "x[0-9]", "a[1-3]b", "host-[1-2]-a", "127.0.1.[2-21]",
    "n[09-11]", "rack[1-2]-node[01-02]", "db[7]", "web[1-3,5,7-9]", "s[0-2]x[0-1]y[0-1]",
    "leaf[01-20]", "name.example.com", "c[1-3].d[4-5]", "web[001-010]", "gpu[1-4]-ib",
]  # fmt: skip


@pytest.mark.parametrize("expression", RANGES)
def test_host_ranges_expand_as_clustershell_nodesets_do(expression):
    from ClusterShell.NodeSet import NodeSet

    assert expand(expression) == list(NodeSet(expression))


def test_where_opsh_ranges_differ_from_nodesets_on_purpose():
    """opsh keeps the order typed (targets run in it) and caps a range at MAX_HOSTS."""
    from ClusterShell.NodeSet import NodeSet

    assert expand("db[5,1]") == ["db5", "db1"] and list(NodeSet("db[5,1]")) == ["db1", "db5"]
    assert len(NodeSet("x[1-200000]")) == 200000
    with pytest.raises(UsageError):
        expand("x[1-200000]")


def test_the_clustershell_parts_opsh_relies_on():
    """engine.py sets the tree worker's gateway command, subclasses the ssh client's command
    line builder and takes these events: a ClusterShell release that changes them fails here."""
    import inspect

    from ClusterShell.Event import EventHandler
    from ClusterShell.NodeSet import NodeSet
    from ClusterShell.Worker.Ssh import SshClient, WorkerSsh
    from ClusterShell.Worker.Tree import TreeWorker

    worker = TreeWorker(NodeSet("n1"), None, 1, command="true", stderr=True)
    assert "-m ClusterShell.Gateway" in worker.invoke_gateway
    assert WorkerSsh.SHELL_CLASS is SshClient and callable(SshClient._build_cmd)
    events = {
        "ev_read": ["worker", "node", "sname", "msg"],
        "ev_hup": ["worker", "node", "rc"],
        "ev_close": ["worker", "timedout"],
        "ev_msg": ["port", "msg"],
        "ev_timer": ["timer"],
    }
    for name, params in events.items():
        assert list(inspect.signature(getattr(EventHandler, name)).parameters)[1:] == params
