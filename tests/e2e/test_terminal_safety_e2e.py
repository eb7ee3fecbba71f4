"""Hostile names at a real terminal, as the repro had them: a file named to set the window title
and clear the screen is listed escaped (`a\\033]0;PWNED\\a\\033[2Jb`) and the terminal is sent
neither sequence; the same listing piped keeps the exact bytes."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.e2e.term import Term, plain
from tests.helpers import clean_env, opsh_binary

pytestmark = pytest.mark.e2e

HOSTILE = "a\x1b]0;PWNED\x07\x1b[2Jb"
SHOWN = "a\\033]0;PWNED\\a\\033[2Jb"
NOT_UTF8 = b"c\xffd"  # a name in another encoding, byte for byte
SEQUENCES = ("\x1b]0;", "\x1b[2J", "\x07")


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / HOSTILE).write_text("x" * 3000)
    (folder / f"dir{HOSTILE}").mkdir()
    (folder / "e\x9bf").write_text("y")  # the 8-bit CSI, U+009B
    with open(os.path.join(os.fsencode(folder), NOT_UTF8), "wb") as handle:
        handle.write(b"z")
    with tarfile.open(tmp_path / "logs.tar", "w") as tar:
        tar.add(folder / HOSTILE, arcname=HOSTILE)
    return folder


def untouched(raw: str) -> bool:
    """Nothing that retitles the window, clears the screen or rings the bell reached it."""
    return not any(sequence in raw for sequence in SEQUENCES) and "\x9b" not in raw


@pytest.mark.parametrize(
    "line",
    ["ls logs", "ls -l logs", "find logs", "tree logs", "glob 'logs/*'", "du logs --depth 1", "archive list logs.tar"],
)
def test_names_are_shown_escaped_and_the_terminal_is_not_touched(term: Term, logs: Path, line: str):
    raw = term.run_raw(line)
    assert untouched(raw)
    assert SHOWN in plain(raw)
    if not line.startswith(("archive", "du")):
        assert "c\\377d" in plain(raw) and "e\\302\\233f" in plain(raw)


def test_stat_of_such_a_file(term: Term, logs: Path):
    raw = term.run_raw("stat logs/a*")
    assert untouched(raw) and f"logs/{SHOWN}" in plain(raw)


def test_an_error_that_quotes_such_a_name_is_escaped_on_stderr(term: Term, logs: Path):
    raw = term.run_raw("cat logs/dir*")
    assert untouched(raw)
    assert f"error: logs/dir{SHOWN} is a directory, not a file" in plain(raw)


def test_streamed_remote_output_stays_raw_and_group_output_is_escaped(term: Term):
    command = "run local -- \"printf 'x\\033]0;T\\007y\\n'\""
    assert "x\x1b]0;T\x07y" in term.run_raw(command)  # as ssh would show it
    grouped = term.run_raw(command.replace("run local", "run local --group"))
    assert untouched(grouped) and "x\\033]0;T\\ay" in plain(grouped)


def test_piped_the_names_keep_their_exact_bytes(tmp_path: Path, logs: Path):
    """`opsh -c 'ls logs' | od -c` shows the name's own bytes: a pipe, a file and JSON get it
    as it is."""
    env = clean_env(tmp_path / "home")
    lines = ("ls logs", "ls logs | cat", "ls logs --format plain", "find logs", "archive list logs.tar", "ls logs > x")
    for line in lines:
        out = subprocess.run([opsh_binary(), "-c", line], capture_output=True, env=env, cwd=tmp_path, timeout=30)
        assert out.returncode == 0, out.stderr
        written = out.stdout or (tmp_path / "x").read_bytes()
        assert HOSTILE.encode() in written
        if not line.startswith("archive"):
            assert NOT_UTF8 in written and "e\x9bf".encode() in written
    as_json = subprocess.run([opsh_binary(), "-c", "ls logs --format json"], capture_output=True, env=env, cwd=tmp_path)
    names = {row["name"] for row in json.loads(as_json.stdout.decode("utf-8", "surrogateescape"))}
    assert {HOSTILE, "e\x9bf", os.fsdecode(NOT_UTF8)} <= names
