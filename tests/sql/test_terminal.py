"""SQL mode at a terminal: what a DBA reads there (`\\d` of a wide table, a pager quit early,
the first Tab) and how it reads, against MariaDB and SQLite."""

from __future__ import annotations

import io
import time

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from opsh.shell.completion import ShellCompleter
from tests.helpers import Shell
from tests.sql.conftest import connected, mysql_url

# Sakila's film table: its description needs 231 columns drawn whole.
FILM = """
CREATE TABLE language (language_id TINYINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name CHAR(20) NOT NULL);
CREATE TABLE film (
  film_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  title VARCHAR(128) NOT NULL,
  description TEXT DEFAULT NULL,
  language_id TINYINT UNSIGNED NOT NULL,
  original_language_id TINYINT UNSIGNED DEFAULT NULL,
  rental_rate DECIMAL(4,2) NOT NULL DEFAULT 4.99,
  rating ENUM('G','PG','PG-13','R','NC-17') DEFAULT 'G',
  special_features SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes') DEFAULT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (film_id),
  KEY idx_fk_original_language_id (original_language_id),
  CONSTRAINT fk_film_language FOREIGN KEY (language_id) REFERENCES language (language_id),
  CONSTRAINT fk_film_language_original FOREIGN KEY (original_language_id) REFERENCES language (language_id)
);
"""


class Screen(io.StringIO):
    """Output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def at_terminal(shell: Shell, monkeypatch: pytest.MonkeyPatch, columns: int, lines: int = 60) -> Screen:
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("LINES", str(lines))
    shell.engine.out = screen = Screen()
    return screen


def box_rows(text: str) -> list[list[str]]:
    """The rows of a drawn box, each cell's wrapped lines joined (a line whose first cell is
    empty continues the row above)."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("| "):
            continue
        cells = [cell.strip() for cell in line[2:-2].split(" | ")]
        if cells[0] or not rows:
            rows.append(cells)
        else:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
    return rows[1:]  # the header


def squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def film(tmp_path, mariadb, database):
    shell = connected(Shell(tmp_path), mysql_url(mariadb, database), "db")
    shell.ok("\\set pager off")
    shell.ok(FILM)
    yield shell
    shell.close()


def test_d_of_a_wide_table_wraps_its_cells_and_cuts_nothing(film, monkeypatch):
    described = film.json("\\d film")
    screen = at_terminal(film, monkeypatch, 150)
    film.ok("\\d film")
    drawn = screen.getvalue()
    assert "…" not in drawn
    assert max(map(len, drawn.splitlines())) <= 150
    rows = box_rows(drawn)
    assert [row[0] for row in rows] == [c["column"] for c in described]
    for row, column in zip(rows, described, strict=True):
        assert [squeezed(cell) for cell in row] == [squeezed(str(value)) for value in column.values()]
    assert "| enum('G','PG'," in drawn  # broken after a comma, not in a word


def test_auto_vertical_shows_a_description_too_wide_for_the_terminal_vertically(film, monkeypatch):
    film.ok("\\set auto_vertical on")
    screen = at_terminal(film, monkeypatch, 150)
    film.ok("\\d film")
    assert "      type: enum('G','PG','PG-13','R','NC-17')\n" in screen.getvalue()
    assert "+---" not in screen.getvalue()
    screen = at_terminal(film, monkeypatch, 300)
    film.ok("\\d film")  # it fits: a table
    assert screen.getvalue().startswith("+---")


def test_a_description_in_a_file_is_one_line_per_column(film, tmp_path, monkeypatch):
    at_terminal(film, monkeypatch, 150)
    film.ok("\\d film \\> film.txt")
    lines = (tmp_path / "film.txt").read_text().splitlines()
    assert len(lines) == 4 + 9  # the box's rules and header, then one line per column
    assert "| set('Trailers','Commentaries','Deleted Scenes','Behind the Scenes') |" in lines[-3]


def test_the_default_column_tells_no_default_from_default_null(film):
    columns = {c["column"]: c["default"] for c in film.json("\\d film")}
    assert columns["film_id"] == "" and columns["title"] == ""  # no default
    assert columns["description"] == "NULL"  # DEFAULT NULL
    assert columns["rental_rate"] == "4.99" and columns["rating"] == "'G'"
    assert "<null>" not in film.ok("\\d film").text


def test_sqlite_default_column_too(lite):
    lite.ok("CREATE TABLE t (a INT, b INT DEFAULT NULL, c INT DEFAULT 0);")
    assert [c["default"] for c in lite.json("\\d t")] == ["", "NULL", "0"]


def test_quitting_the_pager_early_says_how_far_the_output_got(tmp_path, mariadb, database, monkeypatch):
    shell = connected(Shell(tmp_path, answers=[]), mysql_url(mariadb, database), "db")
    monkeypatch.setenv("OPSH_PAGER", "head -n 1")  # a reader that leaves after one line
    at_terminal(shell, monkeypatch, 100, lines=20)
    shell.ok("SELECT seq AS payment_id FROM seq_1_to_16049;")
    status = shell.session.last.status
    assert status.startswith("output stopped after ") and status.endswith(" rows"), status
    assert 0 < int(status.split()[3]) < 16049
    shell.engine.out = shell.out
    assert shell.json("SELECT 1 AS still_usable;") == [{"still_usable": 1}]
    shell.close()


def tab(shell: Shell, text: str) -> list[str]:
    """What the first Tab offers, as the REPL asks for it."""
    event = CompleteEvent(completion_requested=True)
    return [c.text for c in ShellCompleter(shell.session).get_completions(Document(text), event)]


def test_the_first_tab_waits_for_the_schema_briefly(tmp_path, mariadb, database):
    shell = connected(Shell(tmp_path), mysql_url(mariadb, database), "db")
    shell.ok("CREATE TABLE payment (id INT); CREATE TABLE paystub (id INT);")
    handle = shell.session.current_handle
    load = handle._load_schema

    def slow_load():  # a schema that takes a moment to read, as a big one does
        read = load()

        def slowly():
            time.sleep(0.2)
            return read()

        return slowly

    handle._load_schema = slow_load
    assert tab(shell, "SELECT * FROM pay") == ["payment", "paystub"]
    shell.close()
