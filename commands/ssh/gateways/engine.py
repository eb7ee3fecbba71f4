"""The hosts of a run that go through gateways: one ClusterShell task, on one thread.

The task runs ClusterShell's tree worker over the routes of the run (topology.py): it starts
`python -m ClusterShell.Gateway` on each first-hop gateway (over OpenSSH, as head.py builds
it) and the gateways run the leaf command line (leaf.py) on their leaves. Its events become
the fan-out's own: each line a leaf prints is an Output (through a per-host Job, so a slow
screen slows the gateways down instead of filling memory), each leaf's end a Done with its
HostResult, on the Control every direct worker reports to. `run` then renders both alike.

Ctrl-C reaches the task through a ClusterShell port (the task's thread aborts itself): the
task kills its ssh to the gateways, each gateway aborts its own task when its channel closes
and so kills its ssh to the leaves, and the leaves' watchers stop the commands. This is the
only module that imports ClusterShell, and it is imported only for such a run.
"""

from __future__ import annotations

import logging
import math
import os
import shlex
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ClusterShell.Event import EventHandler
from ClusterShell.NodeSet import NodeSet
from ClusterShell.Task import task_self, task_terminate
from ClusterShell.Topology import TopologyGraph
from ClusterShell.Worker.Ssh import SshClient, WorkerSsh
from ClusterShell.Worker.Tree import TreeWorker

from opsh.commands.shared.fanout.control import Control, Job
from opsh.commands.shared.fanout.events import Done, Start
from opsh.commands.ssh.exec.outcome import HostResult
from opsh.commands.ssh.gateways.head import gateway_argv, ssh_message
from opsh.commands.ssh.gateways.leaf import wrapped
from opsh.shell.errors import describe, swallowed

if TYPE_CHECKING:
    from opsh.commands.ssh.gateways.topology import Routing
    from opsh.commands.ssh.hosts.hostspec import HostSpec

ACTIVE_KEY = "<gateways>"  # this run's entry in Control.active (no host label has < or >)
EX_PROTOCOL = 76  # ClusterShell's code for the hosts of a gateway that went away
# The gateways' own connection has no timeout in ClusterShell. Each leaf's command is bounded
# by its gateway, so something arrives at least once per `timeout` while the gateways work
# (a leaf's end, if nothing else): after twice that and this margin of silence, the head
# gives up on what is left.
SILENCE_MARGIN = 5.0
_GATEWAY_ENV = ("CLUSTERSHELL_GW_LOG_DIR", "CLUSTERSHELL_GW_LOG_LEVEL", "CLUSTERSHELL_GW_B64_LINE_LENGTH")


@dataclass
class TreePlan:
    command: str
    mark: str  # the leaves' start mark (leaf.py)
    routing: Routing
    gateways: dict[str, HostSpec]  # first hops, by node name
    ssh_config: Path | None  # opsh's ssh config, for the head's ssh to a gateway
    ssh_options: str | None  # ClusterShell's ssh_options: the gateways' ssh to the leaves
    gateway_python: str
    fanout: int
    timeout: float
    accept_new: bool
    stream: bool
    keep_output: bool


@dataclass
class _Leaf:
    result: HostResult
    job: Job
    marked: dict[str, bool] = field(default_factory=lambda: {"out": False, "err": False})
    said: str = ""  # the last line ssh printed before the command started
    done: bool = False


class GatewayRun:
    """The fan-out's Delegate for the routed hosts (see shared/fanout/control.py's Delegate)."""

    def __init__(self, plan: TreePlan, control: Control) -> None:
        self.plan = plan
        self.control = control
        self.targets = list(plan.routing.routed)
        # by node name as ClusterShell spells it back (the same as the label, but NodeSet has
        # the last word)
        self.leaves = {str(NodeSet(label)): _Leaf(HostResult(label), Job(label, control)) for label in self.targets}
        self.gateway_said: dict[str, str] = {}  # gateway -> the last line its ssh or shell printed
        self.stopping = ""  # why the task was aborted: "cancelled" | "timed out"
        self.failure = ""  # why the task ended before every leaf did
        self.started = self.heard = time.monotonic()
        self._port: Any = None
        self._lock = threading.Lock()

    # -- the fan-out's side (main thread) --

    def interrupt(self) -> None:
        """Ctrl-C (then kill() if still running): the task aborts itself, on its own thread."""
        self._stop("cancelled")

    def kill(self) -> None:
        self._stop("cancelled")

    def _stop(self, why: str) -> None:
        with self._lock:
            self.stopping = self.stopping or why
            if self._port is None:
                return
            try:
                self._port.msg_send(why)
            except Exception:  # noqa: BLE001 - the task has just ended by itself
                swallowed("telling the gateways' task to stop")

    # -- the task's thread --

    def run(self) -> None:
        self.control.register(ACTIVE_KEY, self)
        for label in self.targets:
            self.control.post(Start(label))  # picked up: the tree has them all from now on
        try:
            self._run_task()
        except Exception as exc:  # noqa: BLE001 - reported for the hosts still waiting
            self.failure = self._gateway_failure() if self.gateway_said else describe(exc).message
        finally:
            with self._lock:
                self._port = None
            self.control.unregister(ACTIVE_KEY)
            for leaf in self.leaves.values():
                if not leaf.done:
                    self._finish(leaf, error=self._left_over())

    def _run_task(self) -> None:
        _quiet()
        task = task_self()
        try:
            self._configure(task)
            worker = TreeWorker(
                NodeSet.fromlist(self.leaves),
                _Events(self),
                self.plan.timeout,
                command=wrapped(self.plan.command, self.plan.mark),
                stderr=True,
            )
            worker.invoke_gateway = self._invoke_gateway()
            task.schedule(worker)
            task.timer(1.0, handler=_Silence(self, task), interval=1.0, autoclose=True)
            with self._lock:
                self._port = task.port(handler=_Abort(self, task), autoclose=True)
                if self.stopping:
                    return  # Ctrl-C came before the task could hear it
            task.resume()
        finally:
            task_terminate()

    def _configure(self, task: Any) -> None:
        graph = TopologyGraph()
        for route in self.plan.routing.routes:
            graph.add_route(NodeSet.fromlist(route.sources), NodeSet.fromlist(route.destinations))
        task.topology = graph.to_tree(self.plan.routing.root)
        task.set_default("distant_worker", _head_worker(self._gateway_command))
        task.set_default("stdout_msgtree", False)  # output goes to the fan-out, not into memory
        task.set_default("stderr_msgtree", False)
        task.set_info("fanout", self.plan.fanout)
        task.set_info("connect_timeout", max(1, math.ceil(self.plan.timeout)))
        if self.plan.ssh_options:
            task.set_info("ssh_options", self.plan.ssh_options)

    def _invoke_gateway(self) -> str:
        env = [f"{name}={shlex.quote(os.environ[name])}" for name in _GATEWAY_ENV if os.environ.get(name)]
        return " ".join([*env, shlex.quote(self.plan.gateway_python), "-m", "ClusterShell.Gateway", "-Bu"])

    def _gateway_command(self, gateway: str, command: str) -> list[str]:
        spec = self.plan.gateways[gateway]
        return gateway_argv(spec, command, self.plan.timeout, self.plan.accept_new, self.plan.ssh_config)

    # -- ClusterShell's events (the task's thread) --

    def line(self, node: str, stream: str, data: bytes) -> None:
        self.heard = time.monotonic()
        leaf = self.leaves.get(node)
        text = data.decode("utf-8", "replace")
        if leaf is None:  # a gateway's own stderr, reported under the gateway's name
            if text.strip():
                self.gateway_said[node] = text
            return
        if not leaf.marked[stream]:
            if text == self.plan.mark:
                leaf.marked[stream] = True
                leaf.result.reached = True
            elif stream == "err" and text.strip():
                leaf.said = text  # ssh's own words, before the command ran
            return
        piece = text + "\n"  # ClusterShell hands over lines without their end
        if self.plan.stream:
            leaf.job.emit(stream, piece)
        if self.plan.keep_output:
            leaf.result.output.append((stream, piece))

    def ended(self, node: str, code: int) -> None:
        self.heard = time.monotonic()
        leaf = self.leaves.get(node)
        if leaf is None or leaf.done:
            return
        if self.control.cancel.is_set() and not (leaf.result.reached and code == 0):
            self._finish(leaf, error="cancelled")
        elif self.stopping:
            self._finish(leaf, error=self._left_over())
        elif not leaf.result.reached:
            self._finish(leaf, error=self._not_reached(leaf, code))
        else:
            self._finish(leaf, exit=code)

    def timed_out(self, node: str) -> None:
        self.heard = time.monotonic()
        leaf = self.leaves.get(node)
        if leaf is not None and not leaf.done:
            self._finish(leaf, error=f"timed out after {self.plan.timeout:g}s (stopped)")

    def aborted(self, why: str) -> None:
        self.stopping = self.stopping or why

    def silent_too_long(self) -> bool:
        return time.monotonic() - self.heard > 2 * self.plan.timeout + SILENCE_MARGIN

    # -- results --

    def _finish(self, leaf: _Leaf, exit: int | None = None, error: str | None = None) -> None:
        leaf.done = True
        leaf.result.exit = exit
        leaf.result.error = error
        leaf.result.seconds = time.monotonic() - self.started
        self.control.post(Done(leaf.result.host, leaf.result))

    def _not_reached(self, leaf: _Leaf, code: int) -> str:
        if code == EX_PROTOCOL:
            return self._gateway_failure()
        if leaf.said:
            return ssh_message(leaf.said)
        return f"not reached (ssh exited {code})"

    def _gateway_failure(self) -> str:
        said = "; ".join(f"gateway {gw}: {ssh_message(text, gateway=True)}" for gw, text in self.gateway_said.items())
        return said or "the gateway closed its connection"

    def _left_over(self) -> str:
        """The error of a host the task ended without (Ctrl-C, the deadline, a failure)."""
        if self.control.cancel.is_set() or self.stopping == "cancelled":
            return "cancelled"
        if self.stopping == "timed out":
            return f"timed out after {self.plan.timeout:g}s (no answer through the gateway)"
        return self.failure or self._gateway_failure()


class _Events(EventHandler):  # type: ignore[misc]
    """ClusterShell's tree worker events, handed to the run."""

    def __init__(self, run: GatewayRun) -> None:
        super().__init__()
        self.run = run

    def ev_read(self, worker: Any, node: str, sname: str, msg: bytes) -> None:
        self.run.line(str(node), "err" if sname == "stderr" else "out", bytes(msg))

    def ev_hup(self, worker: Any, node: str, rc: int) -> None:
        self.run.ended(str(node), int(rc))

    def ev_close(self, worker: Any, timedout: bool) -> None:
        if timedout:
            for node in list(worker.iter_keys_timeout()):
                self.run.timed_out(str(node))


class _Abort(EventHandler):  # type: ignore[misc]
    """A message on the run's port (Ctrl-C): abort the task from its own thread (a
    ClusterShell task is driven by one thread only)."""

    def __init__(self, run: GatewayRun, task: Any) -> None:
        super().__init__()
        self.run = run
        self.task = task

    def ev_msg(self, port: Any, msg: Any) -> None:
        self.run.aborted(str(msg))
        self.task.abort()


class _Silence(EventHandler):  # type: ignore[misc]
    """Once a second: nothing from the gateways for too long, the task gives up."""

    def __init__(self, run: GatewayRun, task: Any) -> None:
        super().__init__()
        self.run = run
        self.task = task

    def ev_timer(self, timer: Any) -> None:
        if self.run.silent_too_long():
            self.run.aborted("timed out")
            self.task.abort()


class _GatewayClient(SshClient):  # type: ignore[misc]
    """ClusterShell's ssh client to a gateway, with the command line opsh builds (head.py).

    The ssh runs in a session of its own (setsid): a Ctrl-C at the terminal goes to the whole
    foreground process group, and an ssh that died of it before opsh saw the press made its
    leaves look "not reached". Ctrl-C is opsh's to handle; its abort ends the ssh, and the
    leaves' watchers then stop the commands (leaf.py), as with `opsh -c` and a SIGINT."""

    def _build_cmd(self) -> tuple[list[str], None]:
        argv = self.worker.gateway_command(str(self.key), self.command)
        return [*_own_session(), *argv], None


def _own_session() -> list[str]:
    setsid = shutil.which("setsid")  # util-linux; without it the ssh shares opsh's Ctrl-C
    return [setsid, "--wait"] if setsid else []


class _GatewayWorker(WorkerSsh):  # type: ignore[misc]
    SHELL_CLASS = _GatewayClient
    gateway_command: Callable[[str, str], list[str]]


def _head_worker(command: Callable[[str, str], list[str]]) -> type:
    """The worker class the task reaches its gateways with, bound to this run's settings."""
    return type("OpshGatewayWorker", (_GatewayWorker,), {"gateway_command": staticmethod(command)})


def _quiet() -> None:
    """ClusterShell logs warnings (a channel closed by Ctrl-C...) that would reach stderr
    through logging's last resort: the run reports what matters itself."""
    logger = logging.getLogger("ClusterShell")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
