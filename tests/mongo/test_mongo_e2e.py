"""Mongo mode in a real terminal: the prompt, a statement over several lines, paging with `it`,
documents shown as mongosh shows them, printjson, variables and expressions."""

from __future__ import annotations

import re
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


def numbers(out: str) -> list[int]:
    """The `n` of each document as mongosh prints them (`{ n: 3 }`)."""
    return [int(n) for n in re.findall(r"\{ n: (\d+) \}", out)]


def test_a_terminal_session(term, mongo_db):
    term.send(f"connect {mongo_db.url} as m\r")
    term.expect_prompt()
    term.expect(f"mongo:m/{mongo_db.name}")
    term.run("db.nums.insertMany([" + ", ".join(f"{{n: {i}}}" for i in range(25)) + "])")
    # An open bracket continues on the next line; the statement runs when it closes.
    term.send("db.nums.find(\r")
    term.send("  {n: {$gte: 0}}, {_id: 0}\r")
    out = term.run(").sort({n: 1})")
    assert numbers(out) == list(range(20))
    assert 'type "it" for more' in out
    out = term.run("it")
    assert numbers(out) == list(range(20, 25))
    out = term.run("db.nums.find({n: 3}, {_id: 0}) --format table")
    assert "|   n |" in out and "|   3 |" in out
    term.send("db.nums.drop()\r")
    term.expect(rf"Drop collection {mongo_db.name}\.nums\? \[y/N\] ")
    term.send("y\r")
    term.expect_prompt()
    assert "nums" not in mongo_db.db.list_collection_names()
    term.ctrl("d")
    assert term.exit_status() == 0


def test_documents_look_as_in_mongosh_and_json_on_request(term, mongo_db):
    term.run(f"connect {mongo_db.url} as m")
    term.run(
        "db.d.insertOne({_id: ObjectId('65f0c0ffee0123456789abcd'), at: ISODate('2024-05-01T10:00:00Z'),"
        " n: NumberLong(5), name: 'ann'})"
    )
    out = term.run("db.d.findOne()")
    assert "_id: ObjectId('65f0c0ffee0123456789abcd')" in out
    assert "at: ISODate('2024-05-01T10:00:00.000Z')" in out and "n: Long('5')" in out and "name: 'ann'" in out
    out = term.run("db.d.findOne() --format json")
    assert '"$oid": "65f0c0ffee0123456789abcd"' in out


def test_printjson_variables_and_expressions(term, mongo_db):
    term.run(f"connect {mongo_db.url} as m")
    term.run("db.p.insertMany([{_id: 1, a: 1}, {_id: 2, a: 2}])")
    out = term.run("db.p.find().forEach(printjson)")
    assert re.search(r"\{\s+_id: 1,\s+a: 1\s+\}", out) and re.search(r"\{\s+_id: 2,\s+a: 2\s+\}", out)
    term.run("var first = db.p.findOne({_id: 1})")
    assert "a: 1" in term.run("first")
    assert term.run("first.a + 1").strip().endswith("2")
    assert term.run("db.p.find().toArray().length").strip().endswith("2")
