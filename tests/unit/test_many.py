"""The neutral parts of `--on TARGETS`: target expressions for connections, the one question
asked for many targets, and how answers merge (no server needed: answers are values)."""

from __future__ import annotations

import pytest

from opsh.commands.shared.fanout.events import Question
from opsh.commands.shared.many.asking import combined
from opsh.commands.shared.many.merge import Settled, present, settle, status_line
from opsh.commands.shared.many.work import Answer
from opsh.commands.shared.targets import TargetContext, parse
from opsh.shell.errors import NotFound
from opsh.shell.result import Result


def connections(**groups: str) -> TargetContext:
    return TargetContext(
        lambda: {k: [v] for k, v in groups.items()}, lambda: ["shop1", "shop2"], lambda kind: None, hosts=False
    )


def test_for_connections_local_and_at_signs_are_plain_names():
    assert parse("local,shop[1-2]", connections()) == ["local", "shop1", "shop2"]
    assert parse("@shards,!shop3", connections(shards="shop[1-4]")) == ["shop1", "shop2", "shop4"]
    assert parse("@all", connections(), ["shop2"]) == ["shop1"]


def test_at_failed_before_any_fan_out_says_what_sets_it():
    context = TargetContext(lambda: {}, lambda: [], lambda kind: None, hosts=False, what="`sql --on`")
    with pytest.raises(NotFound, match="@failed: no `sql --on` yet in this session"):
        parse("@failed", context)


def test_one_question_names_every_target():
    held = [Question("confirm", f"Run `DROP TABLE t` on shop{n} (cannot be undone)?", f"shop{n}") for n in (2, 1)]
    expected = "Run `DROP TABLE t` on shop1, shop2, shop3 (cannot be undone)?"
    assert combined(held, ["shop1", "shop2", "shop3"]) == expected


def test_questions_that_differ_are_listed_one_per_target():
    held = [Question("confirm", f"FLUSHALL: delete every key on 10.0.0.{n}:6379?", f"cache{n}") for n in (1, 2)]
    text = combined(held, ["cache1", "cache2"])
    assert text.splitlines() == [
        "2 targets ask first:",
        "  cache1: FLUSHALL: delete every key on 10.0.0.1:6379?",
        "  cache2: FLUSHALL: delete every key on 10.0.0.2:6379?",
        "Go ahead on cache1, cache2?",
    ]


def test_a_question_without_the_name_is_prefixed_with_the_targets():
    held = [Question("confirm", "Drop users (collection of app)?", n) for n in ("r1", "r2")]
    assert combined(held, ["r1", "r2"]) == "On r1, r2: Drop users (collection of app)?"


def answer(target: str, headers: list[str], rows: list[list[object]]) -> Answer:
    return Answer(target, Settled(headers, rows))


def test_same_columns_merge_under_a_target_column():
    answers = [answer("a", ["n"], [[1]]), answer("b", ["n"], [[2]]), Answer("c", error="refused")]
    result = present(answers, "table", False, "3 targets")
    assert result.headers == ["target", "n"] and list(result.rows or []) == [["a", 1], ["b", 2]]
    assert result.failed and result.then is not None
    failures = result.then()
    assert failures.headers == ["target", "seconds", "error"] and failures.status == "3 targets"
    doc = present(answers, "json", False, "").document
    assert doc == [{"target": "a", "n": 1}, {"target": "b", "n": 2}, {"target": "c", "error": "refused"}]


def test_group_folds_the_names_of_identical_answers():
    answers = [answer(f"web{n:02d}", ["v"], [["x"]]) for n in (1, 2, 3)] + [answer("web04", ["v"], [["y"]])]
    heading = present(answers, "table", True, "")
    assert heading.stream == [[("host", "web[01-03]"), ("dim", " (3)")]]
    assert not heading.failed


def test_settle_gives_every_result_shape_a_table():
    assert settle(Result.doc({"keyspace": {"db0": "keys=1"}})).rows == [["keyspace.db0", "keys=1"]]
    assert settle(Result.doc(7)).headers == ["value"] and settle(Result.doc(7)).rows == [[7]]
    assert settle(Result.of_text("PONG\n")).rows == [["PONG"]]
    assert settle(Result.empty(status="Query OK")).rows == [["Query OK"]]


def test_the_status_line_names_the_failed_targets():
    answers = [Answer("shop1"), Answer("shop2", error="x"), Answer("shop3", error="y")]
    assert status_line(answers, 0.5, False) == "3 targets in 0.50s: 1 ok, 2 failed (shop[2-3])"
    assert status_line(answers, 0.5, True).startswith("interrupted: 3 targets")
