"""Host ranges: expansion (targets) and folding (run --group titles)."""

from __future__ import annotations

import pytest

from opsh.commands.shared.nodeset import expand, fold, natural_key, split_top
from opsh.shell.errors import UsageError


def test_plain_name_is_itself():
    assert expand("web1") == ["web1"]


def test_range_keeps_zero_padding():
    assert expand("web[01-03]") == ["web01", "web02", "web03"]
    assert expand("web[8-11]") == ["web8", "web9", "web10", "web11"]


def test_lists_and_ranges_mix():
    assert expand("db[1,3,5-7]") == ["db1", "db3", "db5", "db6", "db7"]


def test_several_brackets_make_every_combination():
    assert expand("r[1-2]n[1-2].lan") == ["r1n1.lan", "r1n2.lan", "r2n1.lan", "r2n2.lan"]


def test_addresses_expand_too():
    assert expand("10.0.0.[9-11]") == ["10.0.0.9", "10.0.0.10", "10.0.0.11"]


@pytest.mark.parametrize("bad", ["web[1-", "web1]", "web[a-c]", "web[3-1]", "web[]", "x[1-200000]"])
def test_bad_ranges_are_usage_errors(bad):
    with pytest.raises(UsageError):
        expand(bad)


def test_fold_makes_ranges_back():
    assert fold(["web01", "web02", "web03", "web05"]) == "web[01-03,05]"
    assert fold(["db1"]) == "db1"
    assert fold(["127.0.0.2", "127.0.0.3", "127.0.0.10"]) == "127.0.0.[2-3,10]"


def test_fold_keeps_different_names_apart_in_natural_order():
    assert fold(["web2", "db1", "web1", "local"]) == "db1,local,web[1-2]"


def test_fold_of_an_expansion_is_the_expression():
    assert fold(expand("node[001-100]")) == "node[001-100]"


def test_split_top_ignores_commas_in_brackets():
    assert split_top("web[1,2],db1,@x") == ["web[1,2]", "db1", "@x"]


def test_natural_order():
    assert sorted(["web10", "web9", "web1"], key=natural_key) == ["web1", "web9", "web10"]
