"""Script variables in MySQL statements: `${v}` is pasted, `:'v'` and `:"v"` are quoted (as in
psql), so a value passed with --var cannot add SQL."""

from __future__ import annotations

import pytest


@pytest.fixture
def people(my):
    my.ok("CREATE TABLE people (name VARCHAR(20), secret VARCHAR(20));")
    my.ok("INSERT INTO people VALUES ('ann', 's1'), ('bob', 's2');")
    return my


@pytest.mark.parametrize("hostile", ["x' or '1'='1", "\\' or 1=1 -- ", "x\\\\' or '1'='1"])
def test_a_quoted_value_is_one_string_literal(people, hostile):
    people.session.set_variable("who", hostile)
    assert people.json("SELECT name FROM people WHERE name = :'who';") == []
    people.session.set_variable("who", "bob")
    assert people.json("SELECT name FROM people WHERE name = :'who';") == [{"name": "bob"}]


def test_the_raw_form_is_text_as_documented(people):
    people.session.set_variable("who", "x' or '1'='1")
    assert len(people.json("SELECT name FROM people WHERE name = '${who}';")) == 2


def test_a_quoted_identifier_names_one_column(people):
    people.session.set_variable("col", "secret")
    assert people.json("SELECT :\"col\" FROM people WHERE name = 'ann';") == [{"secret": "s1"}]
    people.session.set_variable("col", "name` FROM people; DROP TABLE people; -- ")
    people.fails('SELECT :"col" FROM people;', "mysql 1054")
    assert people.json("SELECT COUNT(*) AS n FROM people;") == [{"n": 2}]
