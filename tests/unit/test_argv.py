"""Binding tokens to a command's declared parameters."""

from __future__ import annotations

import pytest

from opsh.shell.argv import parse
from opsh.shell.errors import UsageError
from opsh.shell.lineparse import tokenize
from opsh.shell.result import Result
from opsh.shell.spec import Command, Kind, arg, command, opt


@command(
    "tail",
    summary="test spec",
    params=(
        arg("files", Kind.PATH, multiple=True),
        opt("-n", "--lines", kind=Kind.INT, default=10),
        opt("-f", "--follow"),
        opt("-q", "--quiet"),
        opt("--timeout", kind=Kind.DURATION, default=5.0),
        opt("--tag", kind=Kind.TEXT, multiple=True),
    ),
)
def tail(session, args):
    return Result.empty()


@command("run", summary="test", params=(arg("targets", Kind.TARGETS), arg("command", Kind.REST)))
def run(session, args):
    return Result.empty()


@command("date", summary="test", params=(arg("shift", Kind.TEXT, multiple=True, required=False),), dash_args=True)
def date(session, args):
    return Result.empty()


ONE = command("one", summary="one positional", params=(arg("a"),))(lambda session, args: Result.empty())


class Create(Command):
    name = "create"
    summary = "make one"
    params = (arg("out", Kind.PATH), arg("paths", Kind.PATH, multiple=True))

    def run(self, session, args):
        return Result.empty()


class Archive(Command):
    name = "archive"
    summary = "archives"
    subcommands = (Create,)


def bind(cmd, line):
    return parse(cmd, tokenize(line))


def test_positionals_and_defaults():
    parsed = bind(tail, "a.log b.log")
    assert parsed.args.files == ["a.log", "b.log"]
    assert parsed.args.lines == 10 and parsed.args.follow is False


def test_short_long_and_attached_values():
    assert bind(tail, "-n 5 x").args.lines == 5
    assert bind(tail, "-n5 x").args.lines == 5
    assert bind(tail, "--lines=7 x").args.lines == 7
    assert bind(tail, "--lines 8 x").args.lines == 8


def test_combined_short_flags():
    args = bind(tail, "-fq x").args
    assert args.follow and args.quiet


def test_typed_values_are_converted():
    assert bind(tail, "--timeout 2m x").args.timeout == 120.0
    with pytest.raises(UsageError, match="expected an integer"):
        bind(tail, "-n many x")
    with pytest.raises(UsageError, match="bad duration"):
        bind(tail, "--timeout soon x")


def test_repeated_option_accumulates():
    assert bind(tail, "--tag a --tag b x").args.tag == ["a", "b"]


def test_generic_format_and_yes():
    parsed = bind(tail, "x --format json --yes")
    assert parsed.format == "json" and parsed.yes
    with pytest.raises(UsageError, match="not one of"):
        bind(tail, "x --format xml")


def test_unknown_option_suggests_the_nearest():
    with pytest.raises(UsageError) as info:
        bind(tail, "--folow x")
    assert "did you mean --follow" in (info.value.hint or "")


def test_missing_required_positional_shows_usage():
    with pytest.raises(UsageError) as info:
        bind(tail, "-f")
    assert "missing" in info.value.message and "usage: tail" in (info.value.hint or "")


def test_double_dash_ends_options():
    assert bind(tail, "-- -weird-name").args.files == ["-weird-name"]


def test_rest_takes_everything_after_it():
    args = bind(run, "web[1-3] -- ls -la /tmp").args
    assert args.targets == "web[1-3]" and args.command == ["ls", "-la", "/tmp"]
    assert bind(run, "web1 uptime -p").args.command == ["uptime", "-p"]


def test_negative_numbers_are_positionals():
    assert bind(date, "-5").args.shift == ["-5"]


def test_dash_args_commands_take_dash_words():
    assert bind(date, "+1d -3h").args.shift == ["+1d", "-3h"]


def test_too_many_positionals():
    with pytest.raises(UsageError, match="unexpected argument 'b'"):
        bind(ONE, "a b")


def test_subcommands_resolve():
    parsed = bind(Archive, "create out.tgz a b")
    assert parsed.command is Create and parsed.path == ["archive", "create"]
    assert parsed.args.paths == ["a", "b"]


def test_unknown_subcommand_lists_choices():
    with pytest.raises(UsageError) as info:
        bind(Archive, "explode x")
    assert "create" in (info.value.hint or "")


def test_usage_line_is_generated_from_the_spec():
    assert tail.usage_line() == "tail [-n LINES] [-f] [-q] [--timeout TIMEOUT] [--tag TAG] FILES..."
    with pytest.raises(UsageError) as info:
        bind(Archive, "create")
    assert "usage: archive create OUT PATHS..." in (info.value.hint or "")


def test_a_spec_can_name_its_implementation_and_it_is_imported_when_run(sh):
    from opsh.shell.result import Result
    from opsh.shell.spec import Command, arg

    class Upper(Command):
        name = "upper-test"
        params = (arg("word"),)
        implementation = "tests.unit.test_argv:_upper"

    sh.session.registry.add(Upper)
    assert sh("upper-test abc").text == "ABC\n"
    assert isinstance(_upper(sh.session, {"word": "x"}), Result)


def test_a_parent_command_that_names_its_implementation_runs_without_a_subcommand(sh):
    from opsh.shell.spec import Command, arg

    class Child(Command):
        name = "child"
        implementation = "tests.unit.test_argv:_upper"

    class Parent(Command):
        name = "parent-test"
        subcommands = (Child,)
        params = (arg("word"),)
        implementation = "tests.unit.test_argv:_upper"

    sh.session.registry.add(Parent)
    assert sh("parent-test abc").text == "ABC\n"


def _upper(session, args):
    from opsh.shell.result import Result

    return Result.of_text(args["word"].upper())


# ---------------------------------------------------------------- a statement and its options


def statement_command(name):
    from tests.helpers import registry

    return registry().get(name)


def test_options_after_a_quoted_statement_are_options():
    parsed = bind(statement_command("sql"), '--on @shards "select count(*) from orders" --format json -x shop3')
    assert parsed.args.statement == ["select count(*) from orders"]
    assert parsed.args.format == "json"
    assert parsed.args.on == "@shards" and parsed.args.exclude == ["shop3"]
    mongo = bind(statement_command("mongo"), '--on "r[1-2]" "db.users.countDocuments({})" --group')
    assert mongo.args.statement == ["db.users.countDocuments({})"] and mongo.args.group


def test_a_long_option_after_an_unquoted_statement_is_an_option():
    redis = bind(statement_command("redis"), "--on @caches INFO keyspace --format json").args
    assert redis.command == ["INFO", "keyspace"] and redis.format == "json"
    sql = bind(statement_command("sql"), "--on shop select 1 --group").args
    assert sql.statement == ["select", "1"] and sql.group


def test_words_of_an_unquoted_statement_stay_in_it():
    """`-x` in `select 10 -x from t` is SQL (ten minus x): only a quoted statement ends before it."""
    assert bind(statement_command("sql"), "--on shop select 10 -x from t").args.statement == [
        "select", "10", "-x", "from", "t",
    ]
    assert bind(statement_command("redis"), 'SET k "--format"').args.command == ["SET", "k", "--format"]
    assert bind(tail, "x --format json").format == "json"  # other commands: as before
    assert bind(run, "web1 echo --format json").args.command == ["echo", "--format", "json"]


def test_a_word_after_the_statements_options_is_a_usage_error():
    with pytest.raises(UsageError) as info:
        bind(statement_command("sql"), '--on @shards "select 1" --format json now')
    assert info.value.message == "sql: 'now' after the statement's options"
    with pytest.raises(UsageError, match="'keyspace' after the statement's options"):
        bind(statement_command("redis"), "--on @caches INFO --format json keyspace")
