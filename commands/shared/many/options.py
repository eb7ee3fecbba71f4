"""The options every `--on TARGETS` command declares (one list, so sql, redis and mongo parse,
complete and document them alike)."""

from __future__ import annotations

from opsh.shell.argv import FORMATS
from opsh.shell.spec import Kind, Param, opt

TARGET_HELP = "a handle or connection, or many: shop[1-4], @shards, a,b,!c, @failed, @ok, @all"


def many_options(what: str) -> tuple[Param, ...]:
    """--on, -x, --group, --fanout, --format for a command about `what` handles."""
    return (
        opt("--on", kind=Kind.TARGETS, metavar="TARGETS", help=f"the {what} handle, or {TARGET_HELP}"),
        opt("-x", "--exclude", kind=Kind.TARGETS, multiple=True, help="leave these targets out"),
        opt("-g", "--group", help="many targets: identical answers shown once, under their targets"),
        opt("-f", "--fanout", kind=Kind.INT, help="targets at a time (default: the fanout setting)"),
        opt("--format", kind=Kind.CHOICE, choices=FORMATS, help="how the answers are shown (`help set`: format)"),
    )
