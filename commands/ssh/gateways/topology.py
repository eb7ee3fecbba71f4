"""Which targets of a run go through gateways, and the routes ClusterShell is given.

Two sources, in ClusterShell's terms (topology.conf's [routes]: "these nodes: reach these"):

    run @web --via bastion[1-2] -- uptime      this machine: bastion[1-2]; bastion[1-2]: @web
    [topology.routes]                          the config: each key a set of gateways, its
    "bastion[1-2]" = "web[001-400]"            value the nodes they reach (nested routes too)

A target under a gateway goes through it; the rest of the run (the gateways themselves, hosts
no route names, `local`) stays with opsh's own runner. Node sets are read with opsh's target
syntax (ranges, lists, @groups), so nothing here needs ClusterShell.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

from opsh.commands.shared.targets import split_label
from opsh.commands.ssh.hosts.names import check_host
from opsh.shell.errors import UsageError

HEAD = "opsh-head"  # the root of a tree opsh builds itself (never contacted, never a target)

Expand = Callable[[str], list[str]]  # a target expression -> host labels


@dataclass(frozen=True)
class Route:
    sources: tuple[str, ...]
    destinations: tuple[str, ...]


@dataclass(frozen=True)
class Routing:
    root: str
    routes: tuple[Route, ...]  # the root's route first
    routed: tuple[str, ...]  # target labels that go through gateways, in the run's order
    hops: tuple[str, ...]  # the gateways this machine connects to, as labels (`user@` kept)


def via(labels: list[str], gateways: list[str]) -> Routing | None:
    """`--via GATEWAYS`: every target but `local` and the gateways themselves goes through them."""
    hops = tuple(dict.fromkeys(gateways))
    names = _names(hops)
    if not names:
        raise UsageError("--via names no gateway", "e.g. --via bastion or --via gw[1-2]")
    routed = tuple(label for label in labels if label != "local" and split_label(label)[1] not in names)
    if not routed:
        return None
    return Routing(HEAD, (Route((HEAD,), names), Route(names, _names(_checked(routed)))), routed, hops)


def configured(
    labels: list[str], routes: dict[str, str], expand: Expand, hostname: str | None = None
) -> Routing | None:
    """[topology.routes]: targets under a gateway go through it; None when no target is. A
    route from this machine (its short host name, as in a topology.conf) may be given; else
    the gateways no route reaches are this machine's first hops."""
    given = {expression: expand(expression) for pair in routes.items() for expression in pair}
    labels_of = {split_label(label)[1]: label for found in given.values() for label in found}
    parsed = [Route(_names(tuple(given[src])), _names(tuple(given[dst]))) for src, dst in routes.items()]
    here = hostname if hostname is not None else socket.gethostname().split(".")[0]
    if any(here in r.sources for r in parsed):
        root, inner = here, [r for r in parsed if here not in r.sources]
        first = [n for r in parsed if here in r.sources for n in r.destinations]
    else:
        below = {n for r in parsed for n in r.destinations}
        root, inner = HEAD, parsed
        first = [n for r in parsed for n in r.sources if n not in below]
    head = Route((root,), tuple(dict.fromkeys(first)))
    reached = {n for r in inner for n in r.destinations} - set(head.destinations)
    _checked(tuple(labels_of[name] for name in reached))
    routed = tuple(label for label in labels if split_label(label)[1] in reached)
    if not routed:
        return None
    hops = tuple(labels_of.get(name, name) for name in head.destinations)
    return Routing(root, (head, *inner), _checked(routed), hops)


def _names(labels: tuple[str, ...]) -> tuple[str, ...]:
    """Node names as ClusterShell routes them: a gateway's `user@` stays with opsh (it
    reaches the gateway), never `local`."""
    names = []
    for label in labels:
        name = split_label(label)[1]
        if name == "local":
            raise UsageError("`local` cannot be a gateway or be reached through one")
        names.append(check_host(name))
    return tuple(dict.fromkeys(names))


def _checked(routed: tuple[str, ...]) -> tuple[str, ...]:
    """Hosts behind a gateway: the gateway's ssh config says how to log in to them."""
    for label in routed:
        if split_label(label)[0] is not None:
            raise UsageError(
                f"{label}: no user can be given for a host behind a gateway",
                "set User for it in the gateway's ssh config",
            )
    return routed
