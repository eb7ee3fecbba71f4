"""The engine: chaining, modes, backslash commands, redirections, errors and exit status.

`LineStore` is a minimal in-memory mode defined here to exercise the mode machinery (statement
splitting, multi-line input, `\\` commands, `\\>` redirects, cancel) independently of any
backend; the backends themselves are tested against their real servers.
"""

from __future__ import annotations

import pytest

from opsh.shell.handles import ConnectRequest, Handle
from opsh.shell.result import Result
from opsh.shell.statement import Statement
from tests.helpers import InternalError, Shell


class LineStore(Handle):
    """Statements end with `;` (like SQL) and are stored; `ROWS` lists them."""

    kind = "store"
    meta_commands = ("\\count",)

    def __init__(self, name: str) -> None:
        super().__init__(name, "memory")
        self.lines: list[str] = []

    def next_statement(self, text: str) -> Statement | None:
        stripped = text.lstrip()
        if stripped.startswith("\\count"):
            line, _, rest = stripped.partition("\n")
            return Statement.cut(line, rest, "\n")
        if ";" not in text:
            return None
        statement, _, rest = text.partition(";")
        return Statement.cut(statement.strip(), rest, ";")

    def execute(self, session, statement: str) -> Result:
        if statement.startswith("\\count"):
            return Result.of_text(str(len(self.lines)))
        if statement == "ROWS":
            return Result.table(["line"], [[line] for line in self.lines])
        if statement == "FAIL":
            raise RuntimeError("boom")
        self.lines.append(statement)
        return Result.empty(status="stored")


def open_store(sh: Shell, name: str = "st") -> LineStore:
    handle = LineStore(name)
    sh.session.add_handle(handle)
    return handle


def test_chained_commands_run_in_order(sh):
    out = sh("echo one; echo two")
    assert out.ok and out.lines == ["one", "two"]


def test_unknown_command_suggests_nearest(sh):
    out = sh("ecko hi")
    assert not out.ok
    assert out.err.strip() == "error: unknown command: ecko (did you mean echo?)"


def test_a_program_of_this_machine_is_pointed_to_the_shell_escape(sh):
    out = sh.fails("grep ERROR x.log")
    assert out.err == "error: unknown command: grep (`!grep ERROR x.log` runs it in the shell)\n"
    assert "`!df -h` runs it in the shell" in sh.fails("df -h").err
    assert sh.fails("nosuchprogram-4711 x").err.endswith("(type `help` for the list)\n")


def test_a_statement_typed_in_the_local_mode_names_the_handle_it_could_go_to(sh):
    sh.ok("connect sqlite:///a.db as shop --background")
    out = sh.fails("select 1;")
    assert out.err == 'error: unknown command: select (`use shop` sends lines there, or: sql --on shop "select 1")\n'
    sh.ok("connect sqlite:///b.db as books --background")
    hint = "(`use shop` (or `use books`) sends lines there, or: sql --on shop 'SELECT \"a b\" AS v')"
    assert sh.fails('SELECT "a b" AS v;').err == f"error: unknown command: SELECT {hint}\n"
    assert sh.json("sql --on shop 'SELECT \"a b\" AS v'") == [{"v": "a b"}]  # the hint runs as shown
    sh.close()


def test_a_failure_does_not_stop_a_chain_and_sets_exit_status(sh):
    out = sh("nosuch; echo after")
    assert "after" in out.text and not out.ok
    assert sh.engine.exit_status() == 1


def test_usage_error_gives_exit_status_2(sh):
    sh.fails("sleep", exit_code=2)
    assert sh.engine.exit_status() == 2


def test_variables_expand_on_any_line(sh):
    sh.ok("set who world")
    assert sh("echo hello ${who}").text == "hello world\n"
    out = sh("echo ${nobody}")
    assert "undefined variable" in out.err and not out.ok


def test_redirect_to_file_and_append(sh, tmp_path):
    sh.ok("echo first > out.txt")
    sh.ok("echo second >> out.txt")
    assert (tmp_path / "out.txt").read_text() == "first\nsecond\n"


def test_redirect_picks_format_from_extension(sh, tmp_path):
    sh.ok("set > settings.csv")
    assert (tmp_path / "settings.csv").read_text().startswith("name,value,kind,about")


def test_pipe_to_a_local_command(sh, tmp_path):
    sh.ok("set | grep -c setting > /dev/null")
    out = sh("echo abc | tr a-z A-Z > up.txt")
    assert out.ok


def test_pipe_output_goes_to_the_command(sh, tmp_path):
    sh.ok(f"echo piped | cat > {tmp_path}/p.txt")  # the redirection belongs to the local command
    assert (tmp_path / "p.txt").read_text() == "piped\n"


def test_bang_runs_a_local_shell_command(sh, tmp_path):
    out = sh("!echo from-shell > shell.txt")
    assert out.ok and (tmp_path / "shell.txt").read_text() == "from-shell\n"
    assert not sh("!exit 3").ok


def test_mode_receives_bare_lines_and_backslash_runs_shell_commands(sh):
    store = open_store(sh)
    out = sh("insert a; insert b;")
    assert out.ok and store.lines == ["insert a", "insert b"]
    out = sh("\\echo in-shell")
    assert out.text == "in-shell\n"
    assert sh("\\count").text == "2\n"


def test_statement_spans_lines_until_terminator(sh):
    store = open_store(sh)
    assert sh.engine.feed("first part\n") and store.lines == []
    sh.engine.feed("second part;\n")
    assert store.lines == ["first part\nsecond part"]


def test_rest_of_a_chain_belongs_to_the_new_mode(sh):
    store = open_store(sh)
    sh.ok("\\q; echo local-again")
    assert sh.session.current is None
    sh.session.use("st")
    out = sh("one; \\use local; echo back")
    assert store.lines == ["one"] and out.text == "back\n"


def test_backslash_redirect_in_a_mode(sh, tmp_path):
    open_store(sh)
    sh.ok("x; y;")
    sh.ok("ROWS \\> rows.json;")
    assert '"line": "x"' in (tmp_path / "rows.json").read_text()


def test_backend_error_is_one_line_without_traceback(sh):
    """A bug inside a backend still reaches the user as one line (and fails the test helper)."""
    open_store(sh)
    with pytest.raises(InternalError) as caught:
        sh.ok("FAIL;")
    err = sh.err.getvalue()
    assert err.count("\n") == 1 and err.startswith("error: internal error: RuntimeError: boom")
    assert "Traceback" not in err
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_format_option_overrides_the_setting(sh):
    out = sh("set --format json")
    assert out.json[0]["name"] == "format"


def test_status_lists_handles(sh):
    open_store(sh, "mystore")
    rows = sh.json("\\status")
    assert [r["name"] for r in rows] == ["local", "mystore"]
    assert rows[1]["state"] == "open (current)"


def test_close_and_use(sh):
    open_store(sh, "a")
    assert sh("\\use local").ok and sh.session.current is None
    assert not sh("use nothere").ok
    assert sh("close a").ok and "a" not in sh.session.handles


def test_exit_stops_the_rest(sh):
    out = sh("exit 3; echo never")
    assert sh.session.exit_code == 3 and "never" not in out.text


def test_connect_unknown_scheme_lists_known_ones(sh):
    out = sh("connect foo://x")
    assert "unknown connection scheme foo://" in out.err


def test_connect_by_config_name_uses_password_env(tmp_path, monkeypatch):
    seen: list[ConnectRequest] = []

    def connector(session, request):
        seen.append(request)
        return LineStore(request.name)

    sh = Shell(
        tmp_path,
        config='[connections.shop]\nurl = "fake://app@db1:3306/shop"\npassword_env = "SHOP_PW"\n'
        'readonly = true\ntag = "prod"\n',
    )
    sh.session.registry.connectors["fake"] = connector
    try:
        out = sh("connect shop")
        assert "SHOP_PW is not set" in out.err
        monkeypatch.setenv("SHOP_PW", "s3cret")
        assert sh("connect shop").ok
        request = seen[-1]
        assert request.password == "s3cret" and request.readonly and request.tag == "prod"
        assert "s3cret" not in request.url and sh.session.current == "shop"
    finally:
        del sh.session.registry.connectors["fake"]


def test_url_password_is_split_off(tmp_path):
    seen: list[ConnectRequest] = []
    sh = Shell(tmp_path)
    sh.session.registry.connectors["fake"] = lambda s, r: seen.append(r) or LineStore(r.name)
    try:
        assert sh("connect fake://u:pw@h:1/db as mine").ok
        assert seen[0].password == "pw" and seen[0].url == "fake://u@h:1/db" and seen[0].name == "mine"
    finally:
        del sh.session.registry.connectors["fake"]


def test_confirmation_refused_in_scripts_without_yes(sh):
    from opsh.shell.errors import ConfirmationRequired

    try:
        sh.session.confirm("drop everything?")
    except ConfirmationRequired as exc:
        assert "--yes" in (exc.hint or "")
    else:
        raise AssertionError("should have refused")


def test_help_lists_areas_and_shows_command_usage(sh):
    assert "shell:" in sh("help").text
    text = sh("help connect").text
    assert text.startswith("usage: connect") and "examples:" in text
    assert "unknown command" in sh("help nonesuch").err


SAFE_WORDS = ["echo", "set", "unset", "help", "status", "use", "close", "history", "connect", "sleep", "config", "exit"]


def test_help_in_a_pipe_honours_columns(sh, monkeypatch):
    """The repro: `COLUMNS=80 opsh -c 'help run' | less` had lines of 142 columns."""
    monkeypatch.delenv("COLUMNS", raising=False)
    whole = sh.ok("help run").lines
    assert max(map(len, whole)) > 100  # a pipe with no COLUMNS gets the lines as written
    monkeypatch.setenv("COLUMNS", "80")
    lines = sh.ok("help run").lines
    assert max(map(len, lines)) <= 80 and len(lines) > len(whole)
    assert "".join("".join(lines).split()) == "".join("".join(whole).split())  # wrapped, nothing lost


def test_fuzz_any_line_is_a_result_or_a_clean_error(tmp_path):
    """Random lines through the whole engine: never an internal error or a traceback."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(
        [
            *SAFE_WORDS,
            " ",
            " ",
            "x",
            "'",
            '"',
            "\\",
            ";",
            ">",
            ">>",
            "out.txt",
            "${v}",
            "${v:-d}",
            "--format",
            "json",
            "-",
            "--",
            "--yes",
            "0",
            "-1",
            "1e9",
            "as",
            "://",
            "\t",
            "#",
            "\n",
            "{",
            "}",
            "$",
        ]
    )

    @settings(max_examples=300, deadline=None)
    @given(st.lists(pieces, max_size=12).map("".join))
    def check(line: str) -> None:
        shell = Shell(tmp_path, history=False)
        outcome = shell(line)
        assert "internal error" not in outcome.err, (line, outcome.err)
        assert "Traceback" not in outcome.err

    check()


def test_a_result_chain_goes_whole_into_one_redirect(sh, tmp_path):
    from opsh.shell.result import Result
    from opsh.shell.spec import command

    @command("twoparts", summary="a stream then a summary")
    def twoparts(session, args):
        return Result.of_stream(iter(["line one", "line two"]), then=lambda: Result.table(["total"], [[2]]))

    sh.session.registry.add(twoparts)
    try:
        sh.ok("twoparts > both.txt")
        text = (tmp_path / "both.txt").read_text()
        assert text.startswith("line one\nline two\n") and "total" in text
        sh.ok("twoparts | wc -l > count.txt")
        assert (tmp_path / "count.txt").read_text().strip() == "7"
    finally:
        del sh.session.registry.commands["twoparts"]
        sh.session.registry.primary.remove(twoparts)


def test_exit_in_a_mode_goes_back_to_local_and_keeps_the_handle(sh):
    store = open_store(sh, "st")
    out = sh("exit")
    assert out.ok and sh.session.current is None and sh.session.exit_code is None
    assert "st" in sh.session.handles and store.lines == []
