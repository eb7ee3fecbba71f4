"""Scripts and replay: variables, failures with line numbers, dry runs, includes, --step."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import Shell


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_script_with_variables_and_defaults(sh, tmp_path):
    write(tmp_path / "greet.opsh", "# say hello\nset who ${who:-world}\necho hello ${who} from ${place:-here}\n")
    assert sh("replay greet.opsh").text == "hello world from here\n"
    assert sh("replay greet.opsh --var who=ops --var place=db1").text == "hello ops from db1\n"


def test_failing_line_stops_with_its_line_number(sh, tmp_path):
    write(tmp_path / "s.opsh", "echo one\n\nnosuch thing\necho never\n")
    out = sh("replay s.opsh")
    assert out.text == "one\n" and not out.ok
    assert "error: s.opsh:3: unknown command: nosuch" in out.err


def test_keep_going_runs_the_rest(sh, tmp_path):
    write(tmp_path / "s.opsh", "echo one\nnosuch\necho three\n")
    out = sh("replay s.opsh --keep-going")
    assert out.text == "one\nthree\n" and not out.ok


def test_dry_run_runs_nothing(sh, tmp_path):
    write(tmp_path / "s.opsh", "set target ${target:-out}\n!touch ${target}.txt\necho ${target}\n")
    out = sh("replay s.opsh --dry-run --var target=made")
    assert out.lines == ["s.opsh:1: set target made", "s.opsh:2: !touch made.txt", "s.opsh:3: echo made"]
    assert not (tmp_path / "made.txt").exists()


def test_dry_run_reports_undefined_variables(sh, tmp_path):
    write(tmp_path / "s.opsh", "echo ${missing}\n")
    out = sh("replay s.opsh --dry-run")
    assert "s.opsh:1: error: undefined variable" in out.text and not out.ok


def test_line_continuation_and_comments(sh, tmp_path):
    write(tmp_path / "s.opsh", "# header\necho one \\\n  two \\\n  three\n   # indented comment\necho four\n")
    assert sh("replay s.opsh").lines == ["one two three", "four"]


def test_include_runs_another_script_relative_to_the_first(sh, tmp_path):
    (tmp_path / "lib").mkdir()
    write(tmp_path / "lib" / "common.opsh", "set region eu\n")
    write(tmp_path / "main.opsh", "include lib/common.opsh\necho region ${region}\n")
    assert sh("replay main.opsh").text == "region eu\n"


def test_include_of_itself_is_stopped(sh, tmp_path):
    write(tmp_path / "loop.opsh", "include loop.opsh\n")
    out = sh("replay loop.opsh")
    assert "include nested deeper" in out.err


def test_missing_script_is_one_line(sh):
    out = sh("replay nothere.opsh")
    assert out.err.strip() == "error: no such script: " + str(sh.session.path("nothere.opsh"))


def test_step_asks_before_each_line(tmp_path):
    write(tmp_path / "s.opsh", "echo one\necho two\necho three\n")
    sh = Shell(tmp_path, answers=["y", "n", "q"])
    out = sh("replay s.opsh --step")
    assert out.text == "one\n"
    assert len(sh.io.asked) == 3  # type: ignore[attr-defined]


def test_dangerous_lines_need_yes(sh, tmp_path):
    write(tmp_path / "s.opsh", "danger\n")

    from opsh.shell.result import Result
    from opsh.shell.spec import command

    @command("danger", summary="asks first")
    def danger(session, args):
        session.confirm("really?")
        return Result.of_text("done")

    sh.session.registry.add(danger)
    try:
        out = sh("replay s.opsh")
        assert "not confirmed" in out.err and "--yes" in out.err
        assert sh("replay s.opsh --yes").text == "done\n"
    finally:
        del sh.session.registry.commands["danger"]
        sh.session.registry.primary.remove(danger)


def test_scripts_start_local_and_the_mode_comes_back(sh, tmp_path):
    from tests.unit.test_dispatch import open_store

    store = open_store(sh, "st")
    write(tmp_path / "s.opsh", "echo local line\n")
    out = sh("\\replay s.opsh")
    assert out.text == "local line\n" and store.lines == []
    assert sh.session.current == "st"


def test_multi_line_statements_in_a_mode_report_their_first_line(sh, tmp_path):
    from tests.unit.test_dispatch import LineStore

    class Failing(LineStore):
        def execute(self, session, statement):  # noqa: ANN001
            if "bad" in statement:
                from opsh.shell.errors import BackendError

                raise BackendError("syntax error")
            return super().execute(session, statement)

    opened: list[Failing] = []
    sh.session.registry.connectors["fail"] = lambda s, r: opened.append(Failing(r.name)) or opened[-1]
    try:
        write(tmp_path / "s.opsh", "connect fail://x as f\ngood\n  one;\nbad\n  two;\n")
        out = sh("replay s.opsh")
        assert "error: s.opsh:4: syntax error" in out.err
        assert opened[0].lines == ["good\n  one"]
    finally:
        del sh.session.registry.connectors["fail"]


def test_every_input_is_checked_before_anything_runs(sh, tmp_path):
    write(tmp_path / "s.opsh", "!touch ran.txt\ninclude lib/missing.opsh\n")
    out = sh("replay s.opsh")
    assert "error: s.opsh:2: no such script to include:" in out.err and "lib/missing.opsh" in out.err
    write(tmp_path / "t.opsh", "!touch ran.txt\n")
    out = sh("replay t.opsh --check t.transcript")
    assert "no such transcript" in out.err
    write(tmp_path / "t.transcript", "opsh transcript 2\n$ !touch ran.txt\nwhat is this\n")
    out = sh("replay t.opsh --check t.transcript")
    assert "t.transcript:3: not a transcript line" in out.err
    assert not (tmp_path / "ran.txt").exists()


def test_an_include_named_by_a_later_variable_is_checked_when_reached(sh, tmp_path):
    write(tmp_path / "part.opsh", "echo from part\n")
    write(tmp_path / "s.opsh", "set which part\ninclude ${which}.opsh\n")
    assert sh("replay s.opsh").text == "from part\n"


def test_a_replay_closes_the_handles_it_opened(sh, tmp_path):
    from tests.unit.test_dispatch import open_store

    mine = open_store(sh, "mine")
    sh.ok("\\use local")
    write(tmp_path / "s.opsh", "connect sqlite:///orders.db as orders\nselect 1 as one;\n")
    assert "one" in sh.ok("replay s.opsh").text
    assert list(sh.session.handles) == ["mine"] and sh.session.handles["mine"] is mine
    assert "one" in sh.ok("replay s.opsh").text  # a second replay opens it again, at line 1
    assert list(sh.session.handles) == ["mine"] and sh.session.current is None


def test_connect_to_the_same_endpoint_under_the_same_name_reuses_the_handle(sh, tmp_path):
    sh.ok("connect sqlite:///orders.db as orders")
    first = sh.session.handles["orders"]
    sh.ok("\\q")
    sh.ok("connect sqlite:///orders.db as orders")
    assert sh.session.handles["orders"] is first and sh.session.current == "orders"
    sh.ok("\\connect sqlite:///orders.db")  # the derived name is `orders` too
    assert list(sh.session.handles) == ["orders"]
    sh.fails("\\connect sqlite:///other.db as orders", "already open")
    write(tmp_path / "s.opsh", "connect sqlite:///orders.db as orders\nselect 2 as two;\n")
    assert "two" in sh.ok("\\replay s.opsh").text  # the recording session replays its own script
    assert sh.session.handles["orders"] is first  # and keeps the handle it had before
