"""Batch runs an operator can trust, written as the repros that showed they could not: a script,
`opsh -c` and piped lines stop at the first failed line (exit 1), never run the rest in another
mode, roll back a transaction left open, and read a continued line the same way."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import clean_env, opsh_binary
from tests.servers.mariadb import MariaDB

SOURCES = ("file", "dash-c", "stdin")


def run_opsh(tmp_path: Path, text: str, source: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`text` through one of the three batch inputs: a script file, `-c`, or piped stdin."""
    env = clean_env(tmp_path / "home")
    argv = [opsh_binary(), *extra]
    stdin = None
    if source == "file":
        script = tmp_path / "batch.opsh"
        script.write_text(text)
        argv.append(str(script))
    elif source == "dash-c":
        argv += ["-c", text]
    else:
        stdin = text
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """A local process whose PID a script might mistake for a MySQL thread id."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def orders(mariadb: MariaDB) -> Iterator[str]:
    mariadb.root_sql(
        "DROP TABLE IF EXISTS opsh_test.batch_t;"
        "CREATE TABLE opsh_test.batch_t (id INT PRIMARY KEY, x VARCHAR(10)) ENGINE=InnoDB;"
        "INSERT INTO opsh_test.batch_t VALUES (5, 'ORIG');"
    )
    yield "batch_t"
    mariadb.root_sql("DROP TABLE IF EXISTS opsh_test.batch_t")


def url_with_password(mariadb: MariaDB, password: str | None = None) -> str:
    return f"mysql://{mariadb.user}:{password or mariadb.password}@{mariadb.host}:{mariadb.port}/{mariadb.database}"


@pytest.mark.parametrize("source", SOURCES)
def test_a_failed_connect_never_runs_the_rest_as_local_commands(tmp_path, mariadb, bystander, source):
    text = f"connect {url_with_password(mariadb, 'wrong')}\nkill {bystander.pid}\n"
    out = run_opsh(tmp_path, text, source)
    assert out.returncode == 1 and "mysql 1045" in out.stderr
    assert bystander.poll() is None  # MySQL's KILL was meant; the local process lives


@pytest.mark.parametrize("source", SOURCES)
def test_a_failed_connect_stops_even_with_keep_going(tmp_path, mariadb, bystander, source):
    text = f"connect {url_with_password(mariadb, 'wrong')}; kill {bystander.pid}\n"
    out = run_opsh(tmp_path, text, source, "--keep-going")
    assert out.returncode == 1 and bystander.poll() is None
    assert "stopping: the lines that follow were meant for the mode this line did not open" in out.stderr


def test_a_failed_use_stops_the_run(tmp_path, bystander):
    out = run_opsh(tmp_path, f"use nosuchhandle; kill {bystander.pid}\n", "dash-c", "--keep-going")
    assert out.returncode == 1 and "no handle named 'nosuchhandle'" in out.stderr
    assert bystander.poll() is None


@pytest.mark.parametrize("source", SOURCES)
def test_a_failed_statement_stops_and_the_open_transaction_is_rolled_back(tmp_path, mariadb, orders, source):
    text = (
        f"connect {url_with_password(mariadb)} as shop\n"
        "begin;\n"
        "update batch_t set x='HALF' where id=5;\n"
        "update nosuch set x=1 where id=5;\n"
        "commit;\n"
    )
    out = run_opsh(tmp_path, text, source)
    assert out.returncode == 1 and "mysql 1146" in out.stderr
    assert "opsh: rolled back the open transaction on shop (the run stopped at a failed line)" in out.stderr
    assert mariadb.root_sql("SELECT x FROM opsh_test.batch_t WHERE id=5").strip() == "ORIG"


def test_the_rest_of_a_chained_line_does_not_run(tmp_path, mariadb, orders):
    text = (
        f"connect {url_with_password(mariadb)} as shop\n"
        "begin; update batch_t set x='HALF' where id=5; update nosuch set x=1 where id=5; commit;\n"
    )
    out = run_opsh(tmp_path, text, "dash-c")
    assert out.returncode == 1
    assert mariadb.root_sql("SELECT x FROM opsh_test.batch_t WHERE id=5").strip() == "ORIG"


def test_keep_going_runs_every_line_and_still_exits_1(tmp_path):
    out = run_opsh(tmp_path, "echo one\nnosuchcmd\necho three\n", "stdin", "--keep-going")
    assert out.returncode == 1 and out.stdout == "one\nthree\n"


def test_input_that_ends_inside_a_transaction_commits_nothing(tmp_path, mariadb, orders):
    text = f"connect {url_with_password(mariadb)} as shop\nbegin;\nupdate batch_t set x='HALF' where id=5;\n"
    out = run_opsh(tmp_path, text, "stdin")
    assert out.returncode == 0
    assert "opsh: rolled back the open transaction on shop (no COMMIT before the end of the input)" in out.stderr
    assert mariadb.root_sql("SELECT x FROM opsh_test.batch_t WHERE id=5").strip() == "ORIG"


@pytest.mark.parametrize("source", SOURCES)
def test_a_continued_line_reads_the_same_from_every_source(tmp_path, source):
    out = run_opsh(tmp_path, "echo a \\\nb\necho c\n", source)
    assert out.returncode == 0 and out.stdout == "a b\nc\n", out.stderr


def test_lines_of_a_dash_c_string_are_separate_commands(tmp_path):
    out = run_opsh(tmp_path, "echo a\necho b", "dash-c")
    assert out.stdout == "a\nb\n"


def test_a_redirect_target_ends_with_its_line(tmp_path):
    text = "connect sqlite:///t.db\nselect 1 as a \\> x.csv\nselect 2 as b;\n"
    out = run_opsh(tmp_path, text, "stdin")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "x.csv").read_text() == "a\n1\n"
    assert "2" in out.stdout  # the next statement ran
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("x.csv")] == ["x.csv"]


def test_term_dumb_gets_no_colour(tmp_path):
    import pexpect

    env = {k: v for k, v in clean_env(tmp_path / "home").items() if k != "NO_COLOR"}
    env["TERM"] = "dumb"
    child = pexpect.spawn(opsh_binary(), ["-c", "nosuchcmd"], env=env, cwd=str(tmp_path), encoding="utf-8")
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    assert "error: unknown command: nosuchcmd" in child.before and "\x1b[" not in child.before
    assert child.exitstatus == 1


def test_in_the_repl_a_failed_line_does_not_stop_the_session(sh):
    out = sh("nosuchcmd; echo after")
    assert not out.ok and out.text == "after\n"
    assert sh.ok("echo still here").text == "still here\n"


def test_replay_of_a_failing_script_from_the_repl_stops_the_script_only(sh, tmp_path):
    (tmp_path / "bad.opsh").write_text("echo one\nnosuchcmd\necho three\n")
    out = sh("replay bad.opsh")
    assert not out.ok and out.text == "one\n"
    assert sh.ok("echo next").text == "next\n"


def test_no_completion_loader_runs_in_a_batch(tmp_path, mariadb):
    """The schema loader is a thread that would still be inside OpenSSL at exit; a batch run
    never completes, so it never starts one (the toolbar's schema state stays untouched)."""
    script = (
        "import os, sys\n"
        "sys.argv = ['opsh', '-c', os.environ['OPSH_T_LINE']]\n"
        "import threading\n"
        "from opsh.shell import app, session\n"
        "started = []\n"
        "real = session.Background.start\n"
        "def spy(self, name, target, *args):\n"
        "    started.append(name)\n"
        "    return real(self, name, target, *args)\n"
        "session.Background.start = spy\n"
        "code = app.main()\n"
        "print('STARTED', started, 'ALIVE', [t.name for t in threading.enumerate() if t.name.startswith('opsh')])\n"
        "raise SystemExit(code)\n"
    )
    line = f"connect {url_with_password(mariadb)}; select 1; \\q"
    env = dict(clean_env(tmp_path / "home"), OPSH_T_LINE=line)
    python = Path(opsh_binary()).with_name("python")
    out = subprocess.run([str(python), "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "STARTED [] ALIVE []" in out.stdout

