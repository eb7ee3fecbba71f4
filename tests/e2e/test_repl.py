"""The installed opsh, used in a real terminal and from scripts, as a new user would."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.term import Term
from tests.helpers import clean_env, opsh_binary

pytestmark = pytest.mark.e2e


def opsh(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [opsh_binary(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(tmp_path / "home"),
        timeout=60,
    )


def test_prompt_tab_completion_and_help(term):
    term.send("statu")  # `stat` alone is also a command (files area)
    term.pause(0.3)  # the completion menu appears while typing
    term.send("\t")  # one candidate: the first Tab completes it and closes the menu
    term.expect("status")
    out = term.run("")  # so Enter runs the line
    assert "local" in out and "latency_ms" in out
    out = term.run("help")
    assert "shell:" in out and "connect" in out
    out = term.run("help echo")
    assert "usage: echo" in out and "examples:" in out


def test_set_format_json_changes_output(term):
    term.run("set format json")
    out = term.run("status")
    start = out.index("[")
    assert json.loads(out[start : out.rindex("]") + 1])[0]["name"] == "local"


def test_redirection_to_a_file(term, tmp_path):
    term.run("echo saved > note.txt")
    term.run("status >> note.txt")
    text = (tmp_path / "note.txt").read_text()
    assert text.startswith("saved\n") and "local" in text


def test_ctrl_c_cancels_the_command_not_the_shell(term):
    term.send("!sleep 30\r")
    term.pause(0.5)
    term.ctrl("c")
    term.expect("cancelled", timeout=5)
    term.expect_prompt(timeout=5)
    assert "alive" in term.run("echo alive")


def test_ctrl_c_at_the_prompt_clears_the_line(term):
    term.send("echo never")
    term.ctrl("c")
    term.expect_prompt()
    out = term.run("echo still here")
    assert "still here" in out and "never" not in out


def test_ctrl_d_exits_with_status_0(term):
    term.ctrl("d")
    assert term.exit_status() == 0


def test_unknown_command_is_one_red_line_with_a_suggestion(term):
    out = term.run("staus")
    # other close names may follow as areas add commands (hosts, stat...)
    assert "error: unknown command: staus (did you mean status" in out
    assert len(out.strip().splitlines()) == 1
    assert "Traceback" not in out


def test_history_persists_across_runs(tmp_path):
    first = Term.start(tmp_path / "home", cwd=tmp_path)
    first.expect_prompt()
    first.run("echo remembered-line")
    first.send("exit\r")
    assert first.exit_status() == 0
    second = Term.start(tmp_path / "home", cwd=tmp_path)
    second.expect_prompt()
    second.send("\x1b[A")  # up arrow: the last line was `exit`
    second.expect("exit")
    second.send("\x1b[A")
    second.expect("remembered-line")
    second.ctrl("c")
    second.expect_prompt()
    out = second.run("history 5")
    assert "echo remembered-line" in out
    second.send("exit 4\r")
    assert second.exit_status() == 4


def test_dash_c_runs_and_sets_exit_status(tmp_path):
    ok = opsh(tmp_path, "-c", "echo one; echo two")
    assert ok.returncode == 0 and ok.stdout == "one\ntwo\n"
    failed = opsh(tmp_path, "-c", "echo one; nosuchcmd; echo three")
    assert failed.returncode == 1 and failed.stdout == "one\n"  # stops at the first failure
    assert failed.stderr.strip() == "error: unknown command: nosuchcmd (type `help` for the list)"
    going = opsh(tmp_path, "--keep-going", "-c", "echo one; nosuchcmd; echo three")
    assert going.returncode == 1 and going.stdout == "one\nthree\n"
    usage = opsh(tmp_path, "-c", "sleep")
    assert usage.returncode == 2 and "missing DURATION" in usage.stderr
    assert opsh(tmp_path, "--bogus").returncode == 2


def test_lines_on_stdin_run_like_typed_ones(tmp_path):
    out = opsh(tmp_path, stdin="set who pipe\necho hi ${who}\n")
    assert out.returncode == 0 and out.stdout == "hi pipe\n"


def test_script_file_stops_at_the_failing_line(tmp_path):
    script = tmp_path / "deploy.opsh"
    script.write_text("# a comment\necho start\nnosuch\necho never\n")
    out = opsh(tmp_path, str(script))
    assert out.returncode == 1 and out.stdout == "start\n"
    assert "deploy.opsh:3" in out.stderr


def test_version_and_help(tmp_path):
    assert opsh(tmp_path, "--version").stdout.startswith("opsh ")
    assert "examples" in opsh(tmp_path, "--help").stdout


def test_python_dash_m_opsh(tmp_path):
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "opsh", "-c", "echo via-module"],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
    )
    assert out.stdout == "via-module\n"


def test_output_into_a_closed_pipe_is_quiet(tmp_path):
    proc = subprocess.run(
        f"{opsh_binary()} -c 'help; help; help; help' | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=clean_env(tmp_path / "home"),
    )
    assert "Traceback" not in proc.stderr and proc.stdout.startswith("opsh commands")


def test_long_output_goes_through_the_pager(tmp_path):
    term = Term.start(tmp_path / "home", cwd=tmp_path, rows=12, PAGER="sed s/^/PAGED:/")
    term.expect_prompt()
    out = term.run("help")
    assert "PAGED:opsh commands by area" in out
    term.run("set pager off")
    out = term.run("help")
    assert "PAGED:" not in out and "opsh commands by area" in out
    term.send("exit\r")
    assert term.exit_status() == 0


def test_toolbar_shows_the_last_outcome(term):
    term.run("nosuch")
    term.expect(r"last: (\x1b\[[0-9;]*m)*failed \(1\)")
    term.run("echo fine")
    term.expect(r"last: (\x1b\[[0-9;]*m)*ok")


def test_ctrl_r_then_enter_takes_the_found_line(term):
    term.run("echo findme-4711")
    term.run("echo something else")
    term.ctrl("r")
    term.send("findme")
    term.expect("4711")  # the found line, drawn around the highlighted match
    term.send("\r")  # ends the search, the found line stays on the prompt (as in a bare PromptSession)
    term.pause(0.3)
    out = term.run("")  # Enter again runs it
    assert "findme-4711" in out
    assert "later-typing" in term.run("echo later-typing")  # nothing is stuck in the search


def test_vi_editing_mode_is_used_and_kept(tmp_path):
    term = Term.start(tmp_path / "home", cwd=tmp_path)
    term.expect_prompt()
    term.run("set editing_mode vi")
    term.send("echo hello")
    term.send("\x1b")  # to vi's normal mode
    term.pause(0.6)
    term.send("bcw")  # back a word, change it
    term.send("world\r")
    term.expect_prompt()
    out = term.run("echo done")
    assert "done" in out
    term.send("exit\r")
    assert term.exit_status() == 0
    assert 'editing_mode = "vi"' in (tmp_path / "home" / "config.toml").read_text()
    history = (tmp_path / "home" / "history.jsonl").read_text()
    assert '"echo world"' in history and '"echo hello"' not in history


def test_bang_bang_repeats_the_last_line(term):
    term.run("echo bang-once")
    out = term.run("!!")
    assert out.count("bang-once") == 2 and "echo bang-once" in out  # the line is shown, then runs


def test_help_fits_80_columns(tmp_path):
    term = Term.start(tmp_path / "home", cwd=tmp_path, columns=80)
    term.expect_prompt()
    for line in ("help run", "help", "help connect"):
        out = term.run(line)
        text = [row for row in out.splitlines() if row.strip()]
        assert len(text) > 5 and max(len(row) for row in text) <= 80, out
    term.send("exit\r")
    assert term.exit_status() == 0


def test_a_wide_listing_fits_80_columns(tmp_path):
    (tmp_path / ("a-rather-long-file-name-" * 5 + ".log")).write_text("x")
    term = Term.start(tmp_path / "home", cwd=tmp_path, columns=80)
    term.expect_prompt()
    out = term.run("ls -l")
    rows = [row for row in out.splitlines() if row.startswith(("|", "+"))]
    assert rows and all(len(row) <= 80 for row in rows) and any("-rather-… |" in row for row in rows), out
    term.send("exit\r")
    assert term.exit_status() == 0


def test_a_full_disk_costs_one_warning_not_the_session(tmp_path):
    import resource

    home = tmp_path / "home"
    home.mkdir()
    (home / "history.jsonl").write_text("x" * 5000 + "\n")  # already past the limit below

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # writes beyond 4 KiB fail (EFBIG)

    term = Term.start(home, cwd=tmp_path, preexec_fn=small_files)
    term.expect_prompt()
    first = term.run("echo one")
    assert "one" in first and "warning: history is not being saved" in first
    second = term.run("echo two")
    assert "two" in second and "warning" not in second
    term.send("exit\r")
    assert term.exit_status() == 0


def test_cp_of_a_large_file_shows_progress_with_rate_and_eta(tmp_path):
    with open(tmp_path / "big.bin", "wb") as big:
        big.truncate(96 * 1024 * 1024)
    term = Term.start(tmp_path / "home", cwd=tmp_path)
    term.expect_prompt()
    term.send("cp big.bin copy.bin\r")
    term.expect(r"copying \[[#.]+\] +\d+% \S+/96M \S+/s ETA \d+s", timeout=30)
    out = term.expect_prompt(timeout=60)
    assert "copied 1 file (96M)" in out
    assert (tmp_path / "copy.bin").stat().st_size == 96 * 1024 * 1024
    term.send("exit\r")
    assert term.exit_status() == 0
