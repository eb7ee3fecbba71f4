"""`copy` over SFTP against the real sshd: push to many hosts, pull, trees, verification.

Every host is this machine, so pushes to several hosts write the same remote file: they run
one host at a time (`-f 1`) where the content is checked, so that no host's verification
races another host's upload.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


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
