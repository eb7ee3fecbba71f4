"""The output-format registry: every format it lists works everywhere a format is named.

`--format NAME`, `set format NAME`, `> out.EXT`, completion, `help set`, `opsh --format` and the
README all take their formats from shell/formats/; each tabulate style draws what tabulate
itself draws for the same cells.
"""

from __future__ import annotations

import decimal
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from opsh.shell import formats
from opsh.shell.app import build_parser
from opsh.shell.completion import ShellCompleter
from opsh.shell.output import StreamSink
from opsh.shell.render import render
from opsh.shell.result import Result, Size
from tests.helpers import Shell

NAMES = formats.names()
WITH_EXTENSIONS = [(f.name, ext) for f in formats.REGISTRY for ext in f.extensions]
README = Path(__file__).resolve().parents[2] / "README.md"


def complete(sh: Shell, text: str) -> list[str]:
    event = CompleteEvent(completion_requested=True)
    return [c.text for c in ShellCompleter(sh.session).get_completions(Document(text, len(text)), event)]


def drawn(result: Result, fmt: str, table_style: str = formats.BOX) -> str:
    buffer = io.StringIO()
    render(result, fmt, StreamSink(buffer), table_style)
    return buffer.getvalue()


def status_table(sh: Shell) -> Result:
    """What `status` shows, as a Result to render directly: each format's expected output."""
    rows = sh.json("status")
    return Result.table(list(rows[0]), [list(row.values()) for row in rows])


# ---------------------------------------------------------------- the registry itself


def test_the_registry_has_the_formats_opsh_had_and_the_new_ones():
    assert NAMES[0] == "table"  # the default comes first in every list
    assert {"vertical", "json", "csv", "plain", "yaml", "markdown", "grid", "rst", "html", "latex"} <= set(NAMES)
    assert len(set(NAMES)) == len(NAMES)


def test_every_format_loads_its_renderer_and_says_what_it_is_in_one_line():
    for fmt in formats.REGISTRY:
        assert fmt.renderer().format is fmt
        assert fmt.summary and "\n" not in fmt.summary and len(fmt.summary) < 70, fmt.name


def test_an_extension_belongs_to_one_format():
    extensions = [ext for _, ext in WITH_EXTENSIONS]
    assert len(set(extensions)) == len(extensions)
    assert all(re.fullmatch(r"\.[a-z]+", ext) for ext in extensions)
    assert formats.for_extension(".CSV") == "csv" and formats.for_extension(".txt") is None


def test_structured_formats_are_those_run_gives_one_record_per_host():
    structured = set(formats.structured())
    assert {"vertical", "json", "csv", "yaml"} <= structured
    assert not structured & {"table", "plain", *formats.table_styles()}
    from opsh.commands.ssh.exec.run import STRUCTURED

    assert formats.structured() == STRUCTURED


# ---------------------------------------------------------------- everywhere a format is named


@pytest.mark.parametrize("name", NAMES)
def test_every_format_works_through_format_option_and_set_format(sh, name):
    expected = drawn(status_table(sh), name)
    assert sh.ok(f"status --format {name}").text == expected
    sh.ok(f"set format {name}")
    assert sh.ok("status").text == expected


@pytest.mark.parametrize(("name", "ext"), WITH_EXTENSIONS)
def test_every_extension_picks_its_format_for_a_redirect(sh, tmp_path, name, ext):
    sh.ok(f"status > out{ext}")
    assert (tmp_path / f"out{ext}").read_text() == drawn(status_table(sh), name)


@pytest.mark.parametrize("name", NAMES)
def test_every_format_is_completed_after_format_and_set_format(sh, name):
    assert name in complete(sh, f"status --format {name[:2]}")
    assert name in complete(sh, f"set format {name[:2]}")


def test_format_completion_says_what_each_format_is(sh):
    text = "status --format mark"
    event = CompleteEvent(completion_requested=True)
    (found,) = ShellCompleter(sh.session).get_completions(Document(text, len(text)), event)
    assert found.text == "markdown" and found.display_meta_text == "a GitHub Markdown table"


@pytest.mark.parametrize("name", NAMES)
def test_opsh_itself_takes_every_format(name):
    assert build_parser().parse_args(["--format", name]).format == name


def test_an_unknown_format_is_refused_naming_the_registry(sh):
    outcome = sh.fails("status --format xml", "--format: 'xml' is not one of table, vertical, json")
    assert "markdown" in outcome.err
    sh.fails("set format xml", "markdown")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--format", "xml"])


def test_help_set_lists_every_format_and_table_style(sh):
    text = sh.ok("help set").text
    for fmt in formats.REGISTRY:
        line = next(line for line in text.splitlines() if line.strip().startswith(fmt.name + " "))
        assert fmt.summary in line and all(ext in line for ext in fmt.extensions)
    assert "psql, markdown, grid" in text


def test_help_names_every_format(sh):
    assert f"`--format FORMAT` on any command, FORMAT one of {', '.join(NAMES)}\n" in sh.ok("help").text


def test_readme_lists_the_registry(sh):
    text = README.read_text()
    using = re.search(r"^- `--format ([a-z|]+)` works on every command", text, re.M)
    config = re.search(r'^format = "table" +# ([a-z| ]+)$', text, re.M)
    assert using and tuple(using.group(1).split("|")) == NAMES
    assert config and tuple(config.group(1).split(" | ")) == NAMES
    for name, ext in WITH_EXTENSIONS:
        assert f"`{ext}`" in text, f"README does not say that {ext} picks {name}"


# ---------------------------------------------------------------- table styles (tabulate)

HEADERS = ["id", "name", "price", "size", "code"]
ROWS = [
    [1, "apple", decimal.Decimal("1.50"), Size(1536), "007"],
    [22, None, 10.25, None, "x|y"],
]
# The same cells as opsh shows them (NULL as <null>, sizes as 1.5K, "007" left as text).
CELLS = [["1", "apple", "1.50", "1.5K", "007"], ["22", "<null>", "10.25", "<null>", "x|y"]]
ALIGN = ["right", "left", "right", "right", "left"]
STYLES = [f for f in formats.REGISTRY if f.table_style]


@pytest.mark.parametrize("fmt", STYLES, ids=[f.name for f in STYLES])
def test_each_table_style_is_what_tabulate_draws_for_the_same_cells(fmt):
    from tabulate import tabulate

    cells = CELLS
    if fmt.name == "markdown":  # opsh escapes the `|` in `x|y` (README); tabulate does not
        cells = [[c.replace("|", "\\|") for c in row] for row in CELLS]
    expected = tabulate(cells, HEADERS, tablefmt=fmt.style, disable_numparse=True, colalign=ALIGN) + "\n"
    assert drawn(Result.table(HEADERS, ROWS), fmt.name) == expected
    assert drawn(Result.table(HEADERS, ROWS), "table", table_style=fmt.name) == expected


def test_markdown_is_github_pipes():
    assert drawn(Result.table(["host", "up"], [["web1", 1]]), "markdown") == (
        "| host   |   up |\n|--------|------|\n| web1   |    1 |\n"
    )


def test_markdown_escapes_a_pipe_in_a_cell_so_the_row_keeps_its_columns():
    drawn_table = drawn(Result.table(["cmd|args"], [["grep a|b"]]), "markdown")
    assert drawn_table == "| cmd\\|args   |\n|-------------|\n| grep a\\|b   |\n"


def test_a_style_draws_documents_flattened_and_text_as_it_is():
    docs = [{"name": "a", "addr": {"city": "X"}}]
    assert "| addr.city   |" in drawn(Result.doc(docs), "markdown")
    assert drawn(Result.of_text("hello"), "grid") == "hello\n"


def test_table_style_sets_the_look_of_table_and_psql_brings_the_box_back(sh):
    box = sh.ok("status").text
    assert box.startswith("+--")
    sh.ok("set table_style markdown")
    assert sh.ok("status").text.startswith("| name ")
    assert sh.ok("status --format table").text.startswith("| name ")
    assert sh.ok("status --format csv").text.startswith("name,kind")
    sh.ok("set table_style psql")
    assert sh.ok("status").text == box
    sh.fails("set table_style fancy", "psql, markdown, grid")


def test_tabulate_is_not_imported_to_start_nor_to_draw_the_box():
    code = (
        "import sys, io\n"
        "from opsh.shell import app, dispatch, session, completion\n"
        "from opsh.shell.render import render\n"
        "from opsh.shell.output import StreamSink\n"
        "from opsh.shell.result import Result\n"
        "render(Result.table(['a'], [[1]]), 'table', StreamSink(io.StringIO()))\n"
        "before = 'tabulate' in sys.modules\n"
        "render(Result.table(['a'], [[1]]), 'markdown', StreamSink(io.StringIO()))\n"
        "print(before, 'tabulate' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


# ---------------------------------------------------------------- keyed formats in SQL


def test_duplicate_column_names_are_made_distinct_for_every_keyed_format(sh):
    sh.ok("connect sqlite:///:memory: as m")
    sh.ok("select 1 as id, 2 as id \\> out.yaml")
    assert (sh.session.cwd / "out.yaml").read_text() == "- id: 1\n  id_2: 2\n"
    assert sh.ok("\\d --format yaml").text == "[]\n"


def test_sql_mode_takes_mycli_T_for_the_table_style(sh):
    sh.ok("connect sqlite:///:memory: as m")
    sh.ok("\\T markdown")
    assert sh.ok("select 1 as n;").text == "|   n |\n|-----|\n|   1 |\n"
    assert sh.session.settings.get("table_style") == "markdown"
    assert "table_style = markdown; \\T takes one of psql, markdown" in sh.ok("\\T").text
    sh.fails("\\T fancy", "psql, markdown, grid")
    sh.ok("\\T psql")
    assert sh.ok("select 1 as n;").text.startswith("+-----+")
    assert complete(sh, "\\T ma") == ["markdown"]


class Screen(io.StringIO):
    """Output that says it is a terminal (the transcript copy is then rendered a second time)."""

    def isatty(self) -> bool:
        return True


def test_a_transcript_keeps_the_table_style_the_terminal_showed(sh):
    expected = drawn(status_table(sh), "grid")
    kept: list[str | None] = []
    sh.session.observers.append(lambda record: kept.append(record.output))
    sh.engine.capture_for(kept)
    sh.engine.out = screen = Screen()
    sh.ok("set color off")
    sh.ok("set table_style grid")
    sh.ok("status")
    assert screen.getvalue() == expected and kept[-1] == expected
