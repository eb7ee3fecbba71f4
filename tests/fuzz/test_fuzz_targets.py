"""Target and range parsers on hostile text: host ranges (`web[01-20]`), target expressions
(`@group,!web3`), scan hosts and ports, durations, sizes, signals, dates, sums files and
server lists. Only OpshError may come out; no name is ever looked up in DNS (see no_dns)."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any
from unittest import mock

from hypothesis import example, given
from hypothesis import strategies as st

from opsh.commands.hashing import _parse_sums
from opsh.commands.scan.model import parse_hosts, parse_ports
from opsh.commands.shared.nodeset import expand, fold, natural_key, split_top
from opsh.commands.shared.targets import TargetContext, parse
from opsh.commands.ssh.hosts.inventory import parse_server_list
from opsh.commands.timeutil import LOCAL, evaluate, parse_moment, parse_zone
from opsh.shell import kinds
from tests.fuzz.garbage import CHARS, FUZZ, check, words

SPEC = st.one_of(
    st.text(CHARS, max_size=60),
    st.lists(words(["[", "]", ",", "-", "@", "!", "1", "01", "web", "@web", "@loop", "local", "root@"]), max_size=8)
    .map("".join),
)


@contextlib.contextmanager
def no_dns() -> Iterator[None]:
    """getaddrinfo for address literals only: a fuzzed name must not reach the resolver (it is
    off this machine). The real call's own first check, the IDNA encoding, is kept."""
    real = socket.getaddrinfo

    def literal_only(host: Any, *args: Any, **kw: Any) -> Any:
        if isinstance(host, str):
            host.encode("idna")
            try:
                ipaddress.ip_address(host.split("%")[0])
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (no lookups while fuzzing)") from None
        return real(host, *args, **kw)

    with mock.patch("socket.getaddrinfo", literal_only):
        yield


CONTEXT = TargetContext(
    groups=lambda: {"web": ["web[01-03]"], "loop": ["@loop"], "big": ["n[1-99999]"], "deep": ["@web,x[1-2]"]},
    all_hosts=lambda: ["web01", "db1"],
    last=lambda kind: ["web02"] if kind == "failed" else None,
)


@given(SPEC)
@example("a[" + "9" * 5000 + "]")
@example("web" + "9" * 5000)
@example("n[1-9][1-9][1-9][1-9][1-9][1-9]")
@example("a[²]")
@FUZZ
def test_host_ranges(spec):
    def run() -> None:
        names = expand(spec)
        fold(names[:50])
        sorted(names[:50] + [spec], key=natural_key)
        split_top(spec)

    check("nodeset.expand/fold", spec, run)


@given(st.lists(st.text(CHARS, max_size=30), max_size=10))
@example(["web" + "9" * 5000, "web1"])
@example(["a١٢", "a12", "a²"])
@FUZZ
def test_folding_and_sorting_any_names(names):
    check("nodeset.fold", names, lambda: (fold(names), sorted(names, key=natural_key)))


@given(SPEC, st.lists(SPEC, max_size=2))
@FUZZ
def test_target_expressions(expression, excludes):
    check("targets.parse", (expression, excludes), lambda: parse(expression, CONTEXT, excludes))


@given(SPEC)
@example("a" * 5000)
@example("host\x01name")
@example("127.0.0.1-" + "9" * 40)
@FUZZ
def test_scan_hosts(spec):
    with no_dns():
        check("scan.parse_hosts", spec, lambda: parse_hosts(spec, force=False))


@given(SPEC)
@example("9" * 5000)
@example("1-" + "9" * 5000)
@FUZZ
def test_scan_ports(spec):
    check("scan.parse_ports", spec, lambda: parse_ports(spec))


@given(words())
@FUZZ
def test_kinds(word):
    for name, parser in (
        ("kinds.duration", kinds.parse_duration),
        ("kinds.size", kinds.parse_size),
        ("kinds.bool", kinds.parse_bool),
        ("kinds.signal", kinds.parse_signal),
    ):
        check(name, word, lambda parser=parser: parser(word))


@given(st.lists(words(["+1d", "-3h", "month-end", "-1", "+%Y", "now", "2021-03-14", "02:30"]), max_size=5))
@FUZZ
def test_dates(parts):
    text = " ".join(parts)

    def run() -> None:
        parse_moment(text, LOCAL)
        evaluate(parts, LOCAL)
        parse_zone(parts[0] if parts else "")

    check("timeutil.parse/evaluate", parts, run)


@given(st.lists(st.one_of(words(), st.sampled_from(["d41d8cd98f00b204e9800998ecf8427e  x", "SHA256 (x) = ab", "\\a  b"])),
                max_size=6).map("\n".join))
@FUZZ
def test_sums_files(text):
    check("hashing.parse_sums", text, lambda: _parse_sums(text, None))


@given(st.lists(st.lists(words(["22", "host", "root", "pw"]), max_size=5).map(" ".join), max_size=5).map("\n".join))
@example("host " + "9" * 5000 + " root pw")
@example("host ² root")
@FUZZ
def test_server_lists(text):
    check("hosts.parse_server_list", text, lambda: parse_server_list(text, "list"))
