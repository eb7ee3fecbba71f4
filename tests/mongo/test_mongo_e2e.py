"""Mongo mode in a real terminal: the prompt, a statement over several lines, paging with `it`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.term import Term

pytestmark = pytest.mark.e2e


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Term]:
    session = Term.start(tmp_path / "home", cwd=tmp_path, timeout=15)
    session.expect_prompt()
    yield session
    session.close()


def documents(out: str) -> list[dict]:
    return json.loads(out[out.index("[") : out.rindex("]") + 1])


def test_a_terminal_session(term, mongo_db):
    term.send(f"connect {mongo_db.url} as m\r")
    term.expect_prompt()
    term.expect(f"mongo:m/{mongo_db.name}")
    term.run("db.nums.insertMany([" + ", ".join(f"{{n: {i}}}" for i in range(25)) + "])")
    # An open bracket continues on the next line; the statement runs when it closes.
    term.send("db.nums.find(\r")
    term.send("  {n: {$gte: 0}}, {_id: 0}\r")
    out = term.run(").sort({n: 1})")
    assert [d["n"] for d in documents(out)] == list(range(20))
    assert 'type "it" for more' in out
    out = term.run("it")
    assert [d["n"] for d in documents(out)] == list(range(20, 25))
    out = term.run("db.nums.find({n: 3}, {_id: 0}) --format table")
    assert "|   n |" in out and "|   3 |" in out
    term.send("db.nums.drop()\r")
    term.expect(rf"Drop collection {mongo_db.name}\.nums\? \[y/N\] ")
    term.send("y\r")
    term.expect_prompt()
    assert "nums" not in mongo_db.db.list_collection_names()
    term.ctrl("d")
    assert term.exit_status() == 0
