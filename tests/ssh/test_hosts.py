"""The inventory: hosts file, groups from the config, server lists, `connect NAME`, completion."""

from __future__ import annotations

from opsh.commands.ssh.hosts.complete import hosts_completer, targets_completer
from tests.helpers import Shell


def test_add_list_show_and_remove(sh, ssh_client, sshd_hosts):
    assert sh(f"hosts add app[1-3] {sshd_hosts.addresses[0][:-1]}[2-4] --group app --user {sshd_hosts.user}").ok
    assert sh("hosts add app1 --group blue").ok  # updates: adds a group, keeps the rest
    rows = {r["name"]: r for r in sh.json("hosts")}
    assert rows["app1"]["address"] == "127.0.0.2" and rows["app1"]["groups"] == "app,blue"
    assert rows["app3"]["address"] == "127.0.0.4" and rows["app3"]["source"] == "hosts file"
    assert rows["web01"]["source"] == "ssh config"
    show = dict((r["field"], r["value"]) for r in sh.json("hosts show app2"))
    assert show["hostname"] == "127.0.0.3" and show["port"] == sshd_hosts.port
    assert show["host keys on file"] == "ssh-ed25519"
    rows = sh.json("run @app --format json -- 'echo $SSH_CONNECTION'")
    assert [r["stdout"].split()[2] for r in rows] == ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    assert sh("hosts rm app[2-3]").ok
    assert "not in the hosts file" in sh("hosts rm app9").err
    assert [(r["name"], r["groups"]) for r in sh.json("hosts @app")] == [("app1", "app,blue")]


def test_a_target_expression_lists_the_groups_of_each_host(tmp_path, ssh_client):
    """The repro: `hosts @web` left the groups column empty."""
    sh = Shell(tmp_path, config='[groups]\nfront = "web[01-02]"\n')
    try:
        sh.ok("hosts add web01 --group edge")
        rows = {r["name"]: r["groups"] for r in sh.json("hosts @front")}
        assert rows == {"web01": "front,edge", "web02": "front"}
        assert {r["name"]: r["groups"] for r in sh.json("hosts")}["web02"] == "front"
    finally:
        sh.close()


def test_a_fresh_install_says_where_hosts_come_from(sh, tmp_path, monkeypatch):
    monkeypatch.setenv("OPSH_SSH_CONFIG", str(tmp_path / "no-ssh-config"))
    text = sh.ok("hosts").text
    assert text.startswith("no hosts yet: `hosts add web1 10.0.0.11 --user deploy`, `hosts load serverlist.conf`")
    assert text.endswith(f"or Host entries in {tmp_path / 'no-ssh-config'}\n")
    assert sh.json("hosts") == []  # a script reading JSON gets an empty list


def test_groups_from_config_and_hosts_file(tmp_path, ssh_client):
    sh = Shell(tmp_path, config='[groups]\nfront = "web[01-02]"\nall_web = "@front,web03"\n')
    try:
        sh.ok("hosts add db1 --group back")
        groups = {r["group"]: r for r in sh.json("hosts groups")}
        assert groups["front"]["hosts"] == "web[01-02]"
        assert groups["all_web"]["hosts"] == "web[01-03]" and groups["all_web"]["count"] == 3
        assert groups["back"]["hosts"] == "db1"
        assert "unknown group" in sh("hosts @nope").err
    finally:
        sh.close()


def test_server_list_passwords_stay_in_memory(sh, client_files, sshd_hosts, tmp_path):
    client_files(key=False)
    who = f"{sshd_hosts.port} {sshd_hosts.user} {sshd_hosts.password}"
    listing = "".join(f"{a} {who}\n" for a in sshd_hosts.addresses[:3])
    (tmp_path / "serverlist.conf").write_text("# host port user password\n" + listing)
    out = sh("hosts load serverlist.conf --save")
    assert out.ok, out.err
    assert out.lines[0].startswith("warning: serverlist.conf holds 3 plain-text passwords")
    assert sshd_hosts.password not in out.text
    hosts_file = sh.session.config.paths.hosts_file.read_text()
    assert sshd_hosts.addresses[0] in hosts_file and sshd_hosts.password not in hosts_file
    rows = sh.json("run @serverlist --format json -- whoami")  # a script: no prompt, passwords from memory
    assert [r["stdout"] for r in rows] == [f"{sshd_hosts.user}\n"] * 3
    fresh = Shell(tmp_path / "other")
    try:
        fresh.session.config.paths.hosts_file.write_text(hosts_file)
        out = fresh("run 127.0.0.2 -- true")
        assert not out.ok and "permission denied" in out.text  # a new session has no password
    finally:
        fresh.close()


def test_connect_by_inventory_name(sh, ssh_client, sshd_hosts):
    sh.ok(f"hosts add box {sshd_hosts.addresses[7]}")
    assert sh("connect box").ok
    assert sh("echo $SSH_CONNECTION").text.split()[2] == sshd_hosts.addresses[7]
    assert "unknown connection" in sh("\\connect not-a-host").err


def test_completion_of_hosts_and_targets(sh, ssh_client):
    sh.ok("hosts add db1 --group back")
    assert [c for c, _ in hosts_completer(sh.session, "web0")][:3] == ["web01", "web02", "web03"]
    found = [c for c, _ in targets_completer(sh.session, "web01,@")]
    assert "web01,@back" in found and "web01,@failed" in found
    assert [c for c, _ in targets_completer(sh.session, "!d")] == ["!db1"]
    assert ("local", "this machine") in targets_completer(sh.session, "lo")
