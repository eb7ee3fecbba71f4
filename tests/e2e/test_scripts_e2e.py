"""Scripts from the command line, and secrets kept out of history and recordings."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.term import Term
from tests.helpers import clean_env, opsh_binary

pytestmark = pytest.mark.e2e


def opsh(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [opsh_binary(), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(tmp_path / "home"),
        timeout=60,
    )


def test_opsh_file_with_vars_and_failures(tmp_path):
    script = tmp_path / "job.opsh"
    script.write_text("echo env=${env:-dev}\nnosuch\necho after\n")
    out = opsh(tmp_path, str(script), "--var", "env=prod")
    assert out.returncode == 1 and out.stdout == "env=prod\n"
    assert "error: job.opsh:2: unknown command: nosuch" in out.stderr
    going = opsh(tmp_path, str(script), "--keep-going")
    assert going.returncode == 1 and going.stdout == "env=dev\nafter\n"


def test_opsh_file_dry_run_and_check(tmp_path):
    script = tmp_path / "job.opsh"
    script.write_text("!touch created.txt\n")
    dry = opsh(tmp_path, str(script), "--dry-run")
    assert dry.returncode == 0 and dry.stdout == "job.opsh:1: !touch created.txt\n"
    assert not (tmp_path / "created.txt").exists()
    (tmp_path / "job.transcript").write_text("opsh transcript 1\n$ !touch created.txt\n  unexpected\n")
    check = opsh(tmp_path, str(script), "--check", "job.transcript")
    assert check.returncode == 1 and "-unexpected" in check.stdout


def test_no_secret_in_history_or_recordings(tmp_path):
    term = Term.start(tmp_path / "home", cwd=tmp_path)
    term.expect_prompt()
    term.run("record start typed.opsh --transcript")
    term.run("connect redis://:Sup3rSecretPw@127.0.0.1:1/0")
    term.run("set db_password Sup3rSecretPw")
    term.run("!echo --password=Sup3rSecretPw > /dev/null")
    term.run("record stop")
    term.send("exit\r")
    assert term.exit_status() == 0
    files = [tmp_path / "home" / "history.jsonl", tmp_path / "typed.opsh", tmp_path / "typed.transcript"]
    assert all(f.exists() for f in files)
    for path in files:
        assert "Sup3rSecretPw" not in path.read_text(), path
    assert "connect redis://@127.0.0.1:1/0" in (tmp_path / "typed.opsh").read_text()


def test_recording_a_piped_session_that_runs_replay(tmp_path):
    (tmp_path / "d.opsh").write_text(
        "connect sqlite:///d.db as d\ncreate table if not exists t (n int);\nselect count(*) as n from t;\n\\q\n"
    )
    wrong = opsh_piped(tmp_path, "record start d.transcript --transcript\n")
    assert wrong.returncode == 2 and "would be both the script and its transcript" in wrong.stderr
    typed = "record start s.opsh --transcript\nreplay d.opsh\necho after\nrecord stop\n"
    recorded = opsh_piped(tmp_path, typed)
    assert recorded.returncode == 0, recorded.stderr
    assert (tmp_path / "s.opsh").read_text().splitlines()[1:] == ["replay d.opsh", "echo after"]
    transcript = (tmp_path / "s.transcript").read_text()
    assert "$ replay d.opsh\n  +-----+\n  |   n |\n  |-----|\n  |   0 |\n  +-----+\n$ echo after\n" in transcript
    check = opsh(tmp_path, "s.opsh", "--check", "s.transcript")
    assert check.returncode == 0 and check.stdout == "", check.stdout + check.stderr  # no drift: nothing to show


def opsh_piped(tmp_path: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [opsh_binary()],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(tmp_path / "home"),
        timeout=60,
    )


def test_a_transcript_that_fills_the_disk_stops_the_recording_with_one_warning(tmp_path):
    import resource

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # writes beyond fail (EFBIG)

    typed = "record start big.opsh --transcript\n" + "help\n" * 30 + "echo still-here\n"
    proc = subprocess.run(
        [opsh_binary()],
        input=typed,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(tmp_path / "home"),
        timeout=60,
        preexec_fn=small_files,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("still-here")
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "recording to big.opsh stopped" in warnings[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "big.transcript").stat().st_size <= 20_000
