"""`sql`, `redis` and `mongo` pick the handle they work on alike (shell/pick.py): the one named
with --on, else the current one, else the only one of the kind, and say the same when there is
none, several, or a handle of another kind."""

from __future__ import annotations

import pytest

from opsh.shell.errors import NotFound, UsageError
from opsh.shell.handles import Handle
from opsh.shell.pick import pick_handle
from tests.helpers import Shell


def test_with_no_handle_open_each_command_says_how_to_open_one(sh):
    assert sh("sql SELECT 1").err == (
        "error: no SQL handle is open (connect sqlite:///app.db or mysql://user@host/db first)\n"
    )
    assert sh("redis PING").err == "error: no Redis handle is open (connect redis://host:6379/0 first)\n"
    assert sh("redis peek user:1").err == "error: no Redis handle is open (connect redis://host:6379/0 first)\n"
    assert sh('mongo "db.users.find()"').err == (
        "error: no Mongo handle is open (connect mongodb://host:27017/db first)\n"
    )


def _two_databases(sh: Shell) -> None:
    sh.ok("connect sqlite:///shop.db --background")
    sh.ok("connect sqlite:///stats.db --background")
    sh.ok("set format csv")


def test_several_handles_of_the_kind_ask_for_one_by_name(sh):
    _two_databases(sh)
    assert sh("sql SELECT 1").err == "error: several SQL handles are open (pick one with --on: shop, stats)\n"
    assert sh.ok("sql --on stats SELECT 7 AS n").lines == ["n", "7"]


def test_the_current_handle_wins_over_the_others(sh):
    _two_databases(sh)
    sh.ok("use stats")
    assert sh.ok("\\sql \"SELECT 'here' AS at\"").lines == ["at", "here"]
    sh.ok("\\q")
    sh.ok("close shop")
    assert sh.ok("sql \"SELECT 'only' AS at\"").lines == ["at", "only"]


def test_a_handle_of_another_kind_is_named_with_where_to_look(sh):
    _two_databases(sh)
    assert sh("redis --on shop PING").err == "error: shop is sqlite, not Redis (connect redis://host:6379/0 first)\n"
    assert sh('mongo --on stats "db.x.find()"').err == (
        "error: stats is sqlite, not Mongo (connect mongodb://host:27017/db first)\n"
    )


def test_an_unknown_name_lists_the_open_handles(sh):
    _two_databases(sh)
    assert sh("sql --on nope SELECT 1").err == "error: no handle named 'nope' (open: shop, stats)\n"


def _handle(name: str, kind: str) -> Handle:
    handle = Handle(name, f"{kind}://127.0.0.1")
    handle.kind = kind
    return handle


def test_a_wrong_kind_lists_the_open_handles_of_the_right_kind(sh):
    session = sh.session
    for handle in (_handle("cache", "redis"), _handle("app", "mongo"), _handle("logs", "mongo")):
        session.add_handle(handle, make_current=False)

    def is_mongo(handle: Handle) -> bool:
        return handle.kind == "mongo"

    with pytest.raises(UsageError) as wrong:
        pick_handle(session, "cache", "Mongo", is_mongo, ("mongodb://host:27017/db",))
    assert (wrong.value.message, wrong.value.hint) == ("cache is redis, not Mongo", "open Mongo handles: app, logs")
    with pytest.raises(UsageError) as several:
        pick_handle(session, None, "Mongo", is_mongo, ("mongodb://host:27017/db",))
    assert (several.value.message, several.value.hint) == (
        "several Mongo handles are open",
        "pick one with --on: app, logs",
    )
    session.use("logs")
    assert pick_handle(session, None, "Mongo", is_mongo, ()).name == "logs"
    assert pick_handle(session, "app", "Mongo", is_mongo, ()).name == "app"
    with pytest.raises(NotFound):
        pick_handle(session, None, "SQL", lambda h: False, ("sqlite:///app.db",))


def test_a_format_option_applies_to_a_one_handle_statement(sh):
    sh.ok("connect sqlite:///shop.db --background")
    assert sh.ok("sql --format csv --on shop SELECT 7 AS n").lines == ["n", "7"]
    assert sh.ok("sql --format json SELECT 7 AS n").json == [{"n": 7}]
