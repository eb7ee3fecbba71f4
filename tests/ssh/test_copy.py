"""`copy` over SFTP against the real sshd: push to many hosts, pull, trees, verification.

Every host is this machine, so pushes to several hosts write the same remote file: they run
one host at a time (`-f 1`) where the content is checked, so that no host's verification
races another host's upload.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.servers.sshd import start_sshd


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(out) -> list[dict]:
    return json.loads(out.text)


def test_push_to_many_hosts_with_verify(sh, ssh_client, remote_dir, tmp_path):
    payload = tmp_path / "app.tgz"
    payload.write_bytes(os.urandom(300_000))
    payload.chmod(0o640)
    out = sh(f"copy app.tgz web[01-03]:{remote_dir}/ --verify -f 1 --format json")
    assert out.ok, out.err
    assert [(r["host"], r["files"], r["bytes"], r["verified"]) for r in rows(out)] == [
        (f"web0{n}", 1, 300_000, "yes") for n in (1, 2, 3)
    ]
    copied = remote_dir / "app.tgz"
    assert sha(copied) == sha(payload)
    assert copied.stat().st_mode & 0o777 == 0o640


def test_push_to_a_new_file_name_and_into_home(sh, ssh_client, remote_dir, tmp_path, sshd_hosts):
    (tmp_path / "notes.txt").write_text("hello\n")
    assert sh(f"copy notes.txt web01:{remote_dir}/renamed.txt").ok
    assert (remote_dir / "renamed.txt").read_text() == "hello\n"
    assert sh("copy notes.txt web01:").ok
    home = Path(f"/home/{sshd_hosts.user}/notes.txt")
    assert home.read_text() == "hello\n"
    home.unlink()


def test_pull_one_file(sh, ssh_client, remote_dir, tmp_path):
    (remote_dir / "data.txt").write_text("remote data\n")
    assert sh(f"copy web02:{remote_dir}/data.txt got.txt --verify").ok
    assert (tmp_path / "got.txt").read_text() == "remote data\n"
    (tmp_path / "into").mkdir()
    assert sh(f"copy web02:{remote_dir}/data.txt into").ok
    assert (tmp_path / "into" / "data.txt").read_text() == "remote data\n"


def test_pull_from_many_hosts_keeps_one_folder_per_host(sh, ssh_client, remote_dir, tmp_path):
    (remote_dir / "syslog").write_text("log line\n")
    out = sh(f"copy web[01-03]:{remote_dir}/syslog logs/ --verify")
    assert out.ok, out.err
    for host in ("web01", "web02", "web03"):
        assert (tmp_path / "logs" / host / "syslog").read_text() == "log line\n"


def test_directories_need_r_and_keep_modes(sh, ssh_client, remote_dir, tmp_path):
    tree = tmp_path / "conf"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.conf").write_text("a\n")
    (tree / "sub" / "run.sh").write_text("#!/bin/sh\n")
    (tree / "sub" / "run.sh").chmod(0o755)
    out = sh(f"copy conf web01:{remote_dir}/")
    assert not out.ok and "add -r" in out.err
    out = sh(f"copy -r conf web01:{remote_dir}/ --verify --format json")
    assert out.ok, out.err
    assert rows(out)[0]["files"] == 2
    assert (remote_dir / "conf" / "a.conf").read_text() == "a\n"
    assert (remote_dir / "conf" / "sub" / "run.sh").stat().st_mode & 0o777 == 0o755
    out = sh(f"copy -r web01:{remote_dir}/conf back --verify")
    assert out.ok, out.err
    assert (tmp_path / "back" / "sub" / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "back" / "a.conf").read_text() == "a\n"


def test_several_sources_into_a_remote_directory(sh, ssh_client, remote_dir, tmp_path):
    for name in ("one", "two"):
        (tmp_path / name).write_text(name)
    assert sh(f"copy one two web01:{remote_dir}/both/").ok
    assert sorted(os.listdir(remote_dir / "both")) == ["one", "two"]


def test_copy_errors_name_the_problem(sh, ssh_client, remote_dir, tmp_path):
    out = sh(f"copy web01:{remote_dir}/missing.txt here.txt")
    assert not out.ok and "no such file" in out.text + out.err
    assert "both sides are local" in sh("copy a b").err
    assert "host to host" in sh("copy web01:/a web02:/b").err
    assert "no such file" in sh(f"copy nothing-here web01:{remote_dir}/").err
    assert [r["host"] for r in rows(sh(f"copy web01:{remote_dir}/missing.txt x --format json"))] == ["web01"]
    assert sh("hosts @failed --format json").json[0]["name"] == "web01"


def test_copy_asks_a_password_once_from_its_workers(asking, client_files, sshd_hosts, remote_dir, tmp_path):
    client_files(key=False)
    (tmp_path / "small.txt").write_text("small\n")
    sh = asking(sshd_hosts.password)
    out = sh(f"copy small.txt web[01-02]:{remote_dir}/ -f 1")
    assert out.ok, out.err
    assert len(sh.io.asked) == 1 and "password" in sh.io.asked[0]
    assert (remote_dir / "small.txt").read_text() == "small\n"


# ---------------------------------------------------------------- symlinks, skips, partial files


def make_tree(root: Path) -> Path:
    """conf/ with a file, a symlink to it, a symlink to a directory and a dangling symlink."""
    tree = root / "conf"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.conf").write_text("a\n")
    (tree / "sub" / "b.conf").write_text("b\n")
    (tree / "link.conf").symlink_to("a.conf")
    (tree / "subdir-link").symlink_to("sub")
    (tree / "dangling").symlink_to("nowhere")
    return tree


def test_push_keeps_symlinks_as_symlinks(sh, ssh_client, remote_dir, tmp_path):
    make_tree(tmp_path)
    out = sh(f"copy -r conf web01:{remote_dir}/ --format json")
    assert out.ok, out.err
    copied = remote_dir / "conf"
    assert os.readlink(copied / "link.conf") == "a.conf"
    assert os.readlink(copied / "subdir-link") == "sub"
    assert os.readlink(copied / "dangling") == "nowhere"
    assert (copied / "sub" / "b.conf").read_text() == "b\n"
    assert rows(out)[0]["files"] == 5 and rows(out)[0]["skipped"] == 0


def test_push_with_L_follows_and_reports_what_it_could_not_copy(sh, ssh_client, remote_dir, tmp_path):
    tree = make_tree(tmp_path)
    os.mkfifo(tree / "pipe")
    out = sh(f"copy -r -L conf web01:{remote_dir}/ --format json")
    assert not out.ok and out.exit_code == 1
    row = rows(out)[0]
    assert row["skipped"] == 2
    assert row["error"] == "not copied: conf/dangling (dangling symlink), conf/pipe (fifo)"
    copied = remote_dir / "conf"
    assert not (copied / "link.conf").is_symlink() and (copied / "link.conf").read_text() == "a\n"
    assert (copied / "subdir-link").is_dir() and not (copied / "subdir-link").is_symlink()
    assert (copied / "subdir-link" / "b.conf").read_text() == "b\n"
    assert not (copied / "dangling").exists() and not (copied / "pipe").exists()


def test_pull_keeps_symlinks_and_reports_skips(sh, ssh_client, remote_dir, tmp_path):
    make_tree(remote_dir)
    out = sh(f"copy -r web01:{remote_dir}/conf back")
    assert out.ok, out.err
    assert os.readlink(tmp_path / "back" / "link.conf") == "a.conf"
    assert os.readlink(tmp_path / "back" / "dangling") == "nowhere"
    out = sh(f"copy -r -L web01:{remote_dir}/conf followed --format json")
    assert not out.ok and out.exit_code == 1
    assert rows(out)[0]["error"] == f"not copied: {remote_dir}/conf/dangling (dangling symlink)"
    assert (tmp_path / "followed" / "subdir-link" / "b.conf").read_text() == "b\n"
    assert not (tmp_path / "followed" / "link.conf").is_symlink()


def test_no_temporary_files_are_left_after_a_copy(sh, ssh_client, remote_dir, tmp_path):
    (tmp_path / "big.bin").write_bytes(os.urandom(2_000_000))
    assert sh(f"copy big.bin web01:{remote_dir}/").ok
    assert sh(f"copy web01:{remote_dir}/big.bin got.bin").ok
    assert os.listdir(remote_dir) == ["big.bin"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert sha(tmp_path / "got.bin") == sha(tmp_path / "big.bin")


def test_a_push_the_host_will_not_rename_into_place_leaves_nothing_behind(sh, ssh_client, remote_dir, tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "conf").write_text("new\n")
    sh.ok(f"copy -r etc web01:{remote_dir}/")
    (remote_dir / "etc" / "conf").unlink()
    sh.ok(f"mkdir -p {remote_dir}/etc/conf/in-the-way")  # a directory where the file would go, the host's own
    out = sh(f"copy -r etc web01:{remote_dir}/ --format json")
    error = out.json[0]["error"]
    assert error.startswith(f"{remote_dir}/etc/conf: the host would not rename the copy into place ("), error
    assert error.endswith("); it was removed"), error
    assert sorted(p.name for p in remote_dir.rglob("*")) == ["conf", "etc", "in-the-way"]


@pytest.fixture(scope="module")
def lone_host(tmp_path_factory):
    """A daemon of its own, whose connections a test may cut."""
    with start_sshd(tmp_path_factory.mktemp("sshd-lone"), count=1, first=241) as hosts:
        yield hosts


def test_a_push_cut_off_by_the_server_reports_what_arrived(sh, client_files, lone_host, remote_dir, tmp_path):
    files = client_files(extra=f"Host lone\n    HostName {lone_host.addresses[0]}\n    Port {lone_host.port}\n")
    files.known_hosts.write_text(files.known_hosts.read_text() + lone_host.known_hosts_text())
    # the suite's daemons trust another client key than this daemon: use this one's
    files.ssh_config.write_text(files.ssh_config.read_text().replace(str(sshd_key(files)), str(lone_host.key)))
    (tmp_path / "small.txt").write_text("small\n")
    (tmp_path / "big.bin").write_bytes(os.urandom(100_000_000))

    def started() -> bool:
        try:
            return any(p.name.endswith(".part") and p.stat().st_size > 1_000_000 for p in remote_dir.iterdir())
        except FileNotFoundError:  # renamed while we looked
            return False

    def cut_when_started() -> None:
        deadline = time.monotonic() + 30
        while not started() and time.monotonic() < deadline:
            time.sleep(0.002)
        lone_host.cut_connections()

    cutter = threading.Thread(target=cut_when_started, daemon=True)
    cutter.start()
    out = sh(f"copy small.txt big.bin lone:{remote_dir}/ --format json")
    cutter.join()
    assert not out.ok
    row = rows(out)[0]
    assert row["files"] == 1 and row["bytes"] == 6  # small.txt arrived, and says so
    partial = [p for p in remote_dir.iterdir() if p.name.endswith(".part")]
    assert len(partial) == 1 and not (remote_dir / "big.bin").exists()
    assert f"the partial file stays on the host as {partial[0]}" in row["error"]
    assert row["error"].startswith("connection to lone lost after sending")
    assert row["error"].endswith("; 1 file (6 B) was copied before")


def sshd_key(files) -> Path:
    line = next(line for line in files.ssh_config.read_text().splitlines() if "IdentityFile" in line)
    return Path(line.split(None, 1)[1])


# What paramiko says when the connection is gone: never what a user should read.
PARAMIKO_WORDS = ("EOFError", "Socket is closed", "unexpected end of data", "Server connection dropped")


@pytest.fixture
def lone(client_files, lone_host):
    """The client files for `lone` (lone_host), whose connections a test may cut."""
    files = client_files(extra=f"Host lone\n    HostName {lone_host.addresses[0]}\n    Port {lone_host.port}\n")
    files.known_hosts.write_text(files.known_hosts.read_text() + lone_host.known_hosts_text())
    files.ssh_config.write_text(files.ssh_config.read_text().replace(str(sshd_key(files)), str(lone_host.key)))
    return files


def a_tree(root: Path) -> Path:
    """300 small files, then (sorted last) a big one: a copy of it lasts a few seconds."""
    tree = root / "tree"
    tree.mkdir()
    for n in range(300):
        (tree / f"{n:04d}.txt").write_bytes(os.urandom(8192))
    (tree / "zz-big.bin").write_bytes(os.urandom(60_000_000))
    return tree


def cut_when(host, ready) -> threading.Thread:
    def cut() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if ready():
                    break
            except FileNotFoundError:  # renamed while we looked
                pass
            time.sleep(0.002)
        host.cut_connections()

    thread = threading.Thread(target=cut, daemon=True)
    thread.start()
    return thread


def complete_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".part")]


def parts(folder: Path) -> list[Path]:
    return list(folder.rglob("*.part"))


MOMENTS = {
    "at the first file": lambda folder: bool(complete_files(folder)),
    "in the middle of the tree": lambda folder: len(complete_files(folder)) >= 100,
    "in the middle of the big file": lambda folder: any(p.stat().st_size > 1_000_000 for p in parts(folder)),
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_pull_cut_by_the_server_says_the_connection_was_lost_and_what_arrived(
    sh, lone, lone_host, remote_dir, tmp_path, moment
):
    a_tree(remote_dir)
    got = tmp_path / "got"
    cutter = cut_when(lone_host, lambda: MOMENTS[moment](got))
    out = sh(f"copy -r lone:{remote_dir}/tree got/ --format json")
    cutter.join()
    error = out.json[0]["error"]
    assert error.startswith("connection to lone lost"), error
    assert not [word for word in PARAMIKO_WORDS if word in error], error
    arrived = len(complete_files(got))
    assert out.json[0]["files"] == arrived and f"; {arrived} file{'s' if arrived != 1 else ''} (" in error, error
    if moment == "in the middle of the big file":
        assert f"bytes of {remote_dir}/tree/zz-big.bin; the partial copy was removed" in error
    assert parts(got) == []


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_push_cut_by_the_server_says_the_connection_was_lost_and_what_arrived(
    sh, lone, lone_host, remote_dir, tmp_path, moment
):
    a_tree(tmp_path)
    cutter = cut_when(lone_host, lambda: MOMENTS[moment](remote_dir))
    out = sh(f"copy -r tree lone:{remote_dir}/ --format json")
    cutter.join()
    error = out.json[0]["error"]
    assert error.startswith("connection to lone lost"), error
    assert not [word for word in PARAMIKO_WORDS if word in error], error
    complete, counted = len(complete_files(remote_dir)), out.json[0]["files"]
    if counted == complete - 1:  # the cut took the reply to a rename the server had done
        assert "it was being renamed into place, so it is either complete as" in error, error
    else:
        assert counted == complete, error
    left = parts(remote_dir)
    if moment == "in the middle of the big file":
        assert len(left) == 1 and f"the partial file stays on the host as {left[0]}" in error


def test_a_sudo_push_cut_by_the_server_says_where_the_staged_copies_stay(asking, lone, lone_host, remote_dir, tmp_path):
    root_dir = remote_dir / "etc"
    root_dir.mkdir()
    os.chown(root_dir, 0, 0)
    a_tree(tmp_path)
    home = Path(pwd.getpwnam(lone_host.user).pw_dir)
    before = set(home.glob(".opsh-copy-*"))
    cutter = cut_when(lone_host, lambda: any(p.stat().st_size > 1_000_000 for p in home.glob(".opsh-copy-*/*.part")))
    sh = asking(lone_host.password)
    error = sh(f"copy -r tree lone:{root_dir}/ --sudo --format json").json[0]["error"]
    cutter.join()
    stages = set(home.glob(".opsh-copy-*")) - before
    try:
        assert len(stages) == 1 and error.startswith("connection to lone lost after sending"), error
        assert f"bytes of {root_dir}/tree/zz-big.bin; the partial file stays on the host as {stages.pop()}/" in error
        assert "; the staged copies stay in " in error and error.endswith("; nothing was copied")
        assert list(root_dir.iterdir()) == []  # nothing installed
    finally:
        for stage in set(home.glob(".opsh-copy-*")) - before:
            shutil.rmtree(stage)
