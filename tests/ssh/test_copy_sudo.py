"""`copy --sudo` against the suite's real sshd and sudo: files installed where only root may
write, with the mode and owner asked for, and root-only files pulled. Every host is this
machine, so the files a test makes are the files the hosts see."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest


@pytest.fixture
def root_dir(remote_dir: Path) -> Path:
    """A root-owned 0755 directory: the login user may read it, not write in it."""
    path = remote_dir / "etc"
    path.mkdir(mode=0o755)
    os.chown(path, 0, 0)
    return path


def owner_and_mode(path: Path) -> tuple[int, int, int]:
    info = os.lstat(path)
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def staged_leftovers(user: str) -> list[str]:
    return [p.name for p in Path(pwd.getpwnam(user).pw_dir).iterdir() if p.name.startswith(".opsh-copy-")]


def test_a_push_into_a_root_owned_directory_is_installed_by_sudo(asking, ssh_client, sshd_hosts, root_dir, tmp_path):
    conf = tmp_path / "app.conf"
    conf.write_text("listen 80\n")
    conf.chmod(0o600)
    sh = asking(sshd_hosts.password)
    assert "ermission denied" in sh(f"copy app.conf web01:{root_dir}/ --format json").json[0]["error"]
    out = sh.ok(f"copy app.conf web[01-03]:{root_dir}/ --sudo --format json")
    assert [(r["files"], r["bytes"], r["error"]) for r in out.json] == [(1, 10, "")] * 3
    assert (root_dir / "app.conf").read_text() == "listen 80\n"
    assert owner_and_mode(root_dir / "app.conf") == (0, 0, 0o600)  # root's, the source's mode
    assert len(sh.io.asked) == 1 and sh.io.asked[0].startswith(f"[sudo] password for {sshd_hosts.user} on web")
    assert sshd_hosts.password not in out.text + out.err
    assert sorted(p.name for p in root_dir.iterdir()) == ["app.conf"]  # no temporary left
    assert staged_leftovers(sshd_hosts.user) == []


def test_the_owner_and_mode_are_as_asked(asking, ssh_client, sshd_hosts, root_dir, tmp_path):
    (tmp_path / "motd").write_text("hello\n")
    user = pwd.getpwnam(sshd_hosts.user)
    sh = asking(sshd_hosts.password)
    sh.ok(f"copy motd web02:{root_dir}/motd.new --sudo --owner {sshd_hosts.user}:root --mode 0640")
    assert owner_and_mode(root_dir / "motd.new") == (user.pw_uid, 0, 0o640)
    (root_dir / "motd.new").chmod(0o600)
    sh.ok(f"copy motd web02:{root_dir}/motd.new --sudo --mode 0644 -p")  # replaced, root's again
    assert owner_and_mode(root_dir / "motd.new") == (0, 0, 0o644)
    assert int(os.stat(root_dir / "motd.new").st_mtime) == int(os.stat(tmp_path / "motd").st_mtime)


def test_a_tree_is_installed_with_its_directories_and_symlinks(asking, ssh_client, sshd_hosts, root_dir, tmp_path):
    tree = tmp_path / "site"
    (tree / "conf.d").mkdir(parents=True)
    (tree / "conf.d" / "a.conf").write_text("a\n")
    (tree / "index.html").write_text("<p>hi</p>\n")
    (tree / "current").symlink_to("conf.d")
    (tree / "conf.d").chmod(0o750)
    sh = asking(sshd_hosts.password)
    row = sh.ok(f"copy -r site web03:{root_dir}/ --sudo --verify --format json").json[0]
    assert (row["files"], row["verified"], row["error"]) == (3, "yes", "")
    assert (root_dir / "site" / "conf.d" / "a.conf").read_text() == "a\n"
    assert os.readlink(root_dir / "site" / "current") == "conf.d"
    assert owner_and_mode(root_dir / "site" / "conf.d") == (0, 0, 0o750)
    assert owner_and_mode(root_dir / "site" / "index.html")[:2] == (0, 0)


def test_no_question_without_a_password_rule_and_nothing_left_after_a_wrong_one(
    asking, ssh_client, sshd_hosts, root_dir, tmp_path
):
    (tmp_path / "f.txt").write_text("f\n")
    sh = asking()
    sh.ok(f"copy f.txt {sshd_hosts.nopasswd_user}@web04:{root_dir}/ --sudo")
    assert sh.io.asked == [] and (root_dir / "f.txt").read_text() == "f\n"
    (root_dir / "f.txt").unlink()
    sh = asking("not-the-password")
    rows = sh(f"copy f.txt web[04-05]:{root_dir}/ --sudo --format json").json
    assert [r["error"] for r in rows] == ["sudo: incorrect password"] * 2
    assert list(root_dir.iterdir()) == [] and staged_leftovers(sshd_hosts.user) == []


def test_a_root_only_file_is_pulled_through_sudo(asking, ssh_client, sshd_hosts, root_dir, tmp_path):
    secret = root_dir / "shadow"
    secret.write_bytes(os.urandom(300_000))
    secret.chmod(0o600)
    sh = asking(sshd_hosts.password, sshd_hosts.password)
    assert "ermission denied" in sh(f"copy web01:{secret} ./ --format json").json[0]["error"]
    row = sh.ok(f"copy web01:{secret} got/ --sudo --verify --format json").json[0]
    assert (row["files"], row["bytes"], row["verified"]) == (1, 300_000, "yes")
    assert (tmp_path / "got" / "shadow").read_bytes() == secret.read_bytes()
    assert stat.S_IMODE((tmp_path / "got" / "shadow").stat().st_mode) == 0o600
    sh.ok(f"copy web[01-02]:{secret} many/ --sudo")  # one folder per host
    assert (tmp_path / "many" / "web02" / "shadow").read_bytes() == secret.read_bytes()
    assert len(sh.io.asked) == 2  # for web02, whose sudo had not had it yet: web01 kept it
    assert sh.io.asked[1].startswith(f"[sudo] password for {sshd_hosts.user} on web02 ")
    row = sh(f"copy web01:{root_dir}/missing ./ --sudo --format json").json[0]
    assert row["error"].endswith("missing: no such file")
    assert sorted(p.name for p in tmp_path.iterdir() if ".part" in p.name) == []


def test_sudo_options_are_checked_first(sh, ssh_client, root_dir):
    sh.fails(f"copy a web01:{root_dir}/ --owner root", "go with --sudo", 2)
    sh.fails(f"copy -r web01:{root_dir} ./ --sudo", "pulls files, not directories", 2)
    sh.fails(f"copy a web01:{root_dir}/ --sudo --mode rw", "not an octal mode", 2)
    sh.fails(f"copy a web01:{root_dir}/ --sudo --owner 'a b'", "--owner", 2)
