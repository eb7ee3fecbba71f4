"""What `run` settles on the main thread before hosts go through gateways: which hosts do,
the gateways' HostSpecs and known keys, and ClusterShell itself (the optional extra)."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from opsh.commands.shared.targets import split_label
from opsh.commands.ssh.gateways import topology
from opsh.commands.ssh.gateways.head import check_known
from opsh.commands.ssh.gateways.leaf import new_mark
from opsh.commands.ssh.hosts import lookup
from opsh.commands.ssh.hosts.sshconf import config_path
from opsh.commands.ssh.state import ssh_state
from opsh.shell.errors import OpshError

if TYPE_CHECKING:
    from opsh.commands.shared.fanout.control import Control, Delegate
    from opsh.commands.ssh.gateways.topology import Routing
    from opsh.shell.session import Session

EXTRA_HINT = "pip install 'opsh[fleet]'"
DEFAULT_PYTHON = "python3"


def routing(session: Session, labels: list[str], via: str | None) -> Routing | None:
    """The hosts that go through gateways (`--via`, else the config's [topology]); None: all
    of them are run directly. When some do, ClusterShell must be there: said now, before any
    passphrase is asked or host contacted."""
    routes = session.config.topology.routes
    if via is not None:
        route = topology.via(labels, lookup.targets(session, via))
    elif routes:
        route = topology.configured(labels, routes, lambda expression: lookup.targets(session, expression))
    else:
        return None
    if route is not None:
        _engine()
    return route


def delegate(
    session: Session,
    route: Routing,
    control: Control,
    command: str,
    timeout: float,
    fanout: int,
    accept_new: bool,
    keep_output: bool,
) -> Delegate:
    """The fan-out's delegate for the routed hosts (ClusterShell is imported here)."""
    engine = _engine()
    specs = lookup.specs_for(session, route.hops)
    for spec in specs.values():
        check_known(ssh_state(session), spec, accept_new)
    gateways = {split_label(label)[1]: spec for label, spec in specs.items()}
    config = session.config.topology
    plan = engine.TreePlan(
        command=command,
        mark=new_mark(),
        routing=route,
        gateways=gateways,
        ssh_config=config_path(session),
        ssh_options=config.ssh_options,
        gateway_python=config.gateway_python or DEFAULT_PYTHON,
        fanout=fanout,
        timeout=timeout,
        accept_new=accept_new,
        stream=not keep_output,
        keep_output=keep_output,
    )
    run: Delegate = engine.GatewayRun(plan, control)
    return run


def _engine() -> ModuleType:
    """The ClusterShell side, or one line naming the extra that brings it."""
    try:
        from opsh.commands.ssh.gateways import engine
    except ImportError as exc:
        if (exc.name or "").split(".")[0] == "ClusterShell":
            raise OpshError("going through gateways needs ClusterShell, which is not installed", EXTRA_HINT) from None
        raise
    return engine
