"""Files, archives and hashing through the installed opsh, in a real terminal and from scripts."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.term import PROMPT_END
from tests.helpers import clean_env, opsh_binary

pytestmark = pytest.mark.e2e


def test_tail_f_follows_until_ctrl_c_then_the_prompt_is_back(term, tmp_path):
    log = tmp_path / "app.log"
    log.write_text("booting\nready\n")
    term.send("tail -f app.log\r")
    term.expect(re.escape(PROMPT_END))  # the prompt has handed over to the command
    term.expect("ready")
    with open(log, "a") as handle:
        handle.write("request served in 12ms\n")
    term.expect("request served in 12ms")
    term.ctrl("c")
    after = term.expect_prompt()
    assert "stopped following app.log" in after and "Traceback" not in after
    assert term.run("pwd").strip() == str(tmp_path)


def test_rm_r_asks_and_no_keeps_the_directory(term, tmp_path):
    (tmp_path / "build" / "obj").mkdir(parents=True)
    (tmp_path / "build" / "obj" / "main.o").write_bytes(b"\x00" * 100)
    term.send("rm -r build\r")
    term.expect(r"Remove 1 directory \(build: 2 entries, 100B\)\? \[y/N\]")
    term.send("n\r")
    assert "not confirmed, nothing done" in term.expect_prompt()
    assert (tmp_path / "build" / "obj" / "main.o").exists()
    term.send("rm -r build\r")
    term.expect(r"\[y/N\]")
    term.send("y\r")
    term.expect_prompt()
    assert not (tmp_path / "build").exists()


def test_cd_shows_in_the_prompt_and_cat_refuses_binary(term, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "core.dump").write_bytes(b"\x00\x01\x02core")
    term.run("cd sub")
    term.expect(r"opsh:\S*/sub>")
    out = term.run("cat core.dump")
    assert "error: core.dump is a binary file (7B)" in out


def test_hashing_a_big_file_shows_a_progress_bar_that_is_erased(term, tmp_path):
    with open(tmp_path / "disk.img", "wb") as handle:
        for _ in range(64):
            handle.write(os.urandom(1024 * 1024))
    term.send("hash disk.img\r")
    term.expect(r"sha256 \[[#.]+\]")  # drawn while it works
    out = term.expect_prompt()
    assert "disk.img" in out


def opsh(cwd: Path, line: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [opsh_binary(), "-c", line], capture_output=True, text=True, cwd=cwd, env=clean_env(cwd / "home"), timeout=60
    )


def test_scripts_need_yes_for_rm_r_and_get_one_line_errors(tmp_path):
    (tmp_path / "cache").mkdir()
    refused = opsh(tmp_path, "rm -r cache")
    assert refused.returncode == 1
    assert (
        refused.stderr
        == "error: not confirmed: Remove 1 directory (cache: 0 entries, 0B) (add --yes to allow it in scripts)\n"
    )
    assert (tmp_path / "cache").exists()
    assert opsh(tmp_path, "rm -r cache --yes").returncode == 0
    assert not (tmp_path / "cache").exists()
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    failed = opsh(tmp_path, "archive extract broken.tar.gz")
    assert failed.returncode == 1 and failed.stderr.startswith("error: corrupt or truncated archive broken.tar.gz")
    assert failed.stderr.count("\n") == 1
