"""`${var}` never turns a value into shell syntax, a redirect, a pipe or SQL (the repros)."""

from __future__ import annotations

import subprocess

import pytest

from opsh.shell.lineparse import expand_for_shell

HOSTILE = "$(touch F)`touch F`; touch F | touch F"


def test_a_value_in_a_bang_line_is_one_literal_word(sh, tmp_path):
    sh.ok(f"set x '{HOSTILE}'")
    out = sh.ok("!printf '%s\\n' ${x}")
    assert out.text == HOSTILE + "\n" and not (tmp_path / "F").exists()


@pytest.mark.parametrize(
    "line",
    [
        "printf '%s|' ${v}",
        "printf '%s|' \"in ${v} dq\"",
        "printf '%s|' 'in ${v} sq'",
        "printf '%s|' pre${v}post",
    ],
)
def test_shell_quoting_keeps_the_value_exact_wherever_it_stands(line, tmp_path):
    value = "it's \"q\" \\ $HOME `id` $(id) ; | & *"
    expanded = expand_for_shell(line, lambda name, default: value)
    out = subprocess.run(["bash", "-c", expanded], capture_output=True, text=True, cwd=tmp_path)
    assert value in out.stdout and "uid=" not in out.stdout


def test_an_escaped_variable_stays_for_the_shell(sh):
    assert sh.ok("!echo \\${HOME_NOT_OPSH:-unset}").text == "unset\n"


def test_a_value_never_becomes_a_local_pipe_or_redirect(sh, tmp_path):
    sh.ok("set y '\\| touch F'")
    sh.ok("set z '> G'")
    assert sh.ok("echo hi ${y} ${z}").text == "hi \\| touch F > G\n"
    assert not (tmp_path / "F").exists() and not (tmp_path / "G").exists()


def test_a_value_never_becomes_a_redirect_in_a_mode(sh, tmp_path):
    sh.ok("connect sqlite:///t.db as t")
    sh.ok("\\set y '\\| touch F'")
    sh.fails("select 1 ${y};", "sqlite")
    assert not (tmp_path / "F").exists()


@pytest.fixture
def users(sh):
    sh.ok("connect sqlite:///u.db as u")
    sh.ok("create table users (name text, secret text); insert into users values ('ann', 's1'), ('bob', 's2');")
    return sh


def test_raw_expansion_is_pasted_as_documented_and_the_quoted_form_is_one_literal(users):
    users.ok("\\set who \"x' or '1'='1\"")
    raw = users.json("select name from users where name = '${who}';")
    assert [r["name"] for r in raw] == ["ann", "bob"]  # `${}` is text, as psql's :name
    assert users.json("select name from users where name = :'who';") == []
    users.ok("\\set who ann")
    assert users.json("select name from users where name = :'who';") == [{"name": "ann"}]


def test_the_identifier_form_quotes_a_column_name(users):
    users.ok("\\set col 'secret'")
    assert users.json('select :"col" from users where name = :\'who\';'.replace(":'who'", "'ann'")) == [{"secret": "s1"}]
    users.ok("\\set col 'name` from users; drop table users; --'")
    users.fails('select :"col" from users;', "no such column")
    assert users.json("select count(*) as n from users;") == [{"n": 2}]


def test_quoted_forms_inside_strings_and_comments_stay_as_written(users):
    users.ok("\\set who ann")
    out = users.json("select ':''who''' as s; -- :'who'\n")
    assert out == [{"s": ":'who'"}]
