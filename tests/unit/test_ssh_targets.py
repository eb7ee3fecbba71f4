"""Target expressions, resolved against groups and the previous run."""

from __future__ import annotations

import pytest

from opsh.commands.shared.targets import TargetContext, parse, split_label
from opsh.shell.errors import NotFound, UsageError

GROUPS = {
    "web": ["web[01-04]"],
    "db": ["db1", "db2"],
    "prod": ["@web,@db"],
    "loop": ["@loop"],
}


def context(last: dict[str, list[str]] | None = None) -> TargetContext:
    return TargetContext(
        groups=lambda: GROUPS,
        all_hosts=lambda: ["a1", "a2"],
        last=lambda kind: None if last is None else last[kind],
    )


def test_names_ranges_and_lists():
    assert parse("web1", context()) == ["web1"]
    assert parse("web[1-2],db1", context()) == ["web1", "web2", "db1"]


def test_groups_nest_and_keep_order_without_duplicates():
    assert parse("@prod,web01", context()) == ["web01", "web02", "web03", "web04", "db1", "db2"]


def test_exclusions_inline_and_with_x():
    assert parse("@web,!web02", context()) == ["web01", "web03", "web04"]
    assert parse("@web", context(), ["web03", "web0[1-2]"]) == ["web04"]
    assert parse("@prod", context(), ["@db"]) == ["web01", "web02", "web03", "web04"]


def test_users_apply_to_every_host_of_the_item():
    assert parse("root@web[01-02],db1", context()) == ["root@web01", "root@web02", "db1"]
    assert parse("admin@@db", context()) == ["admin@db1", "admin@db2"]
    assert split_label("root@web01") == ("root", "web01")
    assert split_label("web01") == (None, "web01")


def test_excluding_a_name_excludes_it_with_any_user():
    assert parse("root@web[01-02]", context(), ["web01"]) == ["root@web02"]


def test_local_and_all():
    assert parse("local,@all", context()) == ["local", "a1", "a2"]


def test_failed_and_ok_come_from_the_last_run():
    last = {"failed": ["web03"], "ok": ["web01", "web02"]}
    assert parse("@failed", context(last)) == ["web03"]
    assert parse("@ok", context(last)) == ["web01", "web02"]
    with pytest.raises(NotFound, match="no run or copy yet"):
        parse("@failed", context())


def test_unknown_group_names_the_known_ones():
    with pytest.raises(NotFound, match="unknown group @nope") as info:
        parse("@nope", context())
    assert "@web" in (info.value.hint or "")


def test_a_group_including_itself_is_an_error():
    with pytest.raises(UsageError, match="includes itself"):
        parse("@loop", context())


def test_empty_expression():
    with pytest.raises(UsageError):
        parse("  ", context())
