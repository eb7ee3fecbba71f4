"""The Statement value every mode hands the Engine, and what the Engine does with it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from opsh.shell.handles import Handle
from opsh.shell.lineparse import Redirect
from opsh.shell.result import Result
from opsh.shell.statement import Statement, local_statement, statement_at_end


class Echo(Handle):
    """The base Handle's statements (`;` or a newline ends one); each prints its text."""

    kind = "echo"

    def __init__(self, name: str = "e") -> None:
        super().__init__(name, "memory")
        self.seen: list[str] = []

    def execute(self, session, statement: str) -> Result:  # noqa: ANN001
        self.seen.append(statement)
        return Result.of_text(statement)


def test_a_statement_keeps_its_terminator_and_redirect_apart_from_its_text():
    found = Echo().next_statement("GET a \\> out.txt; GET b")
    assert found == Statement("GET a", " GET b", ";", Redirect(">", "out.txt"))
    assert Echo().next_statement("GET 'a;b'\nGET c") == Statement("GET 'a;b'", "GET c", "\n")
    assert Echo().next_statement("GET a").terminator == ""


def test_the_current_statement_is_the_one_the_cursor_is_in():
    handle = Echo()
    assert handle.current_statement("SET a 1; GET ") == "GET "
    assert handle.current_statement("SET a 'x;y' ; GE") == "GE"
    assert handle.current_statement("SET a 1\nGET b") == "GET b"
    assert handle.current_statement("SET a 1;") == ""
    assert statement_at_end("echo a; ls -", local_statement) == "ls -"
    assert statement_at_end("!echo a; ls", local_statement) == "!echo a; ls"  # one shell command


def test_a_variable_never_turns_into_a_redirect(sh, tmp_path):
    handle = Echo()
    sh.session.add_handle(handle)
    sh("\\set target '\\> stolen.txt'")
    out = sh("GET ${target}")
    assert out.ok and handle.seen == ["GET \\> stolen.txt"]
    assert not (tmp_path / "stolen.txt").exists()


def test_a_redirect_target_may_come_from_a_variable(sh, tmp_path):
    sh.session.add_handle(Echo())
    sh("\\set name out")
    assert sh("GET a \\> ${name}.txt").ok
    assert (tmp_path / "out.txt").read_text() == "GET a\n"


def test_a_redirect_target_never_runs_into_the_next_line(sh, tmp_path):
    class Semicolons(Echo):
        """Statements that span lines until a `;`, as SQL's and open brackets in mongo's do."""

        def next_statement(self, text: str) -> Statement | None:
            head, semicolon, rest = text.partition(";")
            return Statement.cut(head, rest, semicolon) if semicolon else None

    handle = Semicolons()
    sh.session.add_handle(handle)
    out = sh("GET a \\> x.txt\nGET b;")
    assert not out.ok and "runs past the end of its line" in out.err and handle.seen == []
    assert not any(p.name.startswith("x.txt") for p in tmp_path.iterdir())


def test_a_redirect_without_a_target_fails_when_it_runs_not_while_typing(sh):
    handle = Echo()
    sh.session.add_handle(handle)
    assert handle.next_statement("GET a \\>") == Statement("GET a", "", "", Redirect(">", ""))
    out = sh("GET a \\>")
    assert not out.ok and "missing target after \\>" in out.err and handle.seen == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("ab ;|>'\"\\\n") + ["\\>", "\\|", "${x}"]), max_size=25).map("".join))
def test_splitting_never_raises_and_always_moves_on(text: str):
    """next_statement runs on every keystroke: any text splits, and what is left is shorter."""
    found = Echo().next_statement(text)
    assert found is not None and (len(found.rest) < len(text) or not text)
    statement_at_end(text, Echo().next_statement)
    statement_at_end(text, local_statement)
