"""Tab in a real terminal: a unique completion completes on the first Tab, locally and in SSH
mode, so the Enter that follows runs the line (as in bash) instead of only taking a menu entry."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.term import Term
from tests.servers.sshd import SshHosts
from tests.ssh.conftest import web_aliases

pytestmark = pytest.mark.e2e


def tab_then_enter(term: Term, typed: str) -> str:
    """Type, pause (the menu appears while typing), one Tab, one Enter: the line's output."""
    term.send(typed)
    term.pause(0.4)
    term.send("\t")
    term.pause(0.4)
    return term.run("")


def test_a_unique_command_name_completes_on_the_first_tab(term, tmp_path):
    out = tab_then_enter(term, "pw")
    assert str(tmp_path) in out  # pwd ran


def test_a_unique_path_completes_on_the_first_tab(term, tmp_path):
    (tmp_path / "only-dir").mkdir()
    (tmp_path / "only-dir" / "greeting.txt").write_text("hello from the file\n")
    out = tab_then_enter(term, "cat only-dir/gr")
    assert "hello from the file" in out


def test_a_unique_directory_completes_and_the_next_tab_goes_on_inside(term, tmp_path):
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "inner.txt").write_text("inner text\n")
    term.send("cat dee")
    term.pause(0.4)
    term.send("\t")
    term.pause(0.4)
    term.send("\t")
    term.pause(0.4)
    assert "inner text" in term.run("")


def test_several_candidates_still_open_the_menu(term):
    term.send("sta")  # stat, status
    term.pause(0.4)
    term.send("\t")
    term.expect("status")
    term.send("\x15")  # Ctrl-U: forget the line
    term.ctrl("c")
    term.expect_prompt()


@pytest.fixture
def ssh_term(tmp_path: Path, sshd_hosts: SshHosts) -> Iterator[Term]:
    files = sshd_hosts.write_client(tmp_path / "ssh", aliases=web_aliases(sshd_hosts))
    session = Term.start(tmp_path / "home", cwd=tmp_path, **files.env)
    session.expect_prompt()
    yield session
    session.close()


def test_a_unique_remote_path_completes_on_the_first_tab_in_ssh_mode(ssh_term, sshd_hosts):
    remote = sshd_hosts.remote_dir()
    try:
        (remote / "lonely-file.txt").write_text("said over ssh\n")
        ssh_term.run("connect web01")
        ssh_term.run(f"cd {remote}")
        out = tab_then_enter(ssh_term, "cat lonely")
        assert "said over ssh" in out
        out = tab_then_enter(ssh_term, f"cat {remote}/lon")  # an absolute path, too
        assert "said over ssh" in out
    finally:
        shutil.rmtree(remote, ignore_errors=True)
