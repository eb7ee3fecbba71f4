"""One host's share of `run`: get a connection, run the command (through sudo with --sudo),
stream its lines, obey the command timeout and the run's cancellation."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsh.commands.shared.fanout.control import Job
from opsh.commands.shared.fanout.engine import explained
from opsh.commands.ssh import sudo
from opsh.commands.ssh.exec.local import LocalCommand
from opsh.commands.ssh.exec.outcome import HostResult, host_error
from opsh.commands.ssh.exec.remote import RemoteCommand
from opsh.commands.ssh.transport.conn import ConnectOptions, pooled_transport
from opsh.shell.errors import swallowed

if TYPE_CHECKING:
    from opsh.commands.ssh.exec.fleetsudo import FleetSudo
    from opsh.commands.ssh.hosts.hostspec import HostSpec
    from opsh.commands.ssh.state import SshState


@dataclass
class RunPlan:
    command: str
    specs: dict[str, HostSpec]  # by target label; "local" has none
    state: SshState
    options: ConnectOptions
    timeout: float
    keep_output: bool
    stream: bool
    cwd: Path
    sudo: FleetSudo | None = None  # --sudo: the command runs as root (or sudo.user)


def run_on_host(plan: RunPlan, job: Job) -> HostResult:
    result = HostResult(job.target)
    started = time.monotonic()
    markers = sudo.Markers()
    spec = None if job.target == "local" else plan.specs[job.target]
    try:
        if spec is None:
            command: Any = LocalCommand(plan.command, plan.cwd)
        else:
            command = _start_remote(plan, spec, markers)
    except Exception as exc:  # noqa: BLE001 - reported for this host only
        result.error = host_error(exc)
        result.seconds = time.monotonic() - started
        return result
    try:
        _run(plan, job, command, markers, result)
    finally:
        if spec is not None:
            plan.state.pool.release(spec.pool_key, command.transport)
    result.seconds = time.monotonic() - started
    return result


def _run(plan: RunPlan, job: Job, command: Any, markers: sudo.Markers, result: HostResult) -> None:
    job.running(command)
    result.reached = True
    try:
        if plan.sudo is not None:
            plan.sudo.become(job, command, plan.specs[job.target], markers, plan.timeout)
        job.settle()  # from now on this host asks nothing: questions held for others go ahead
        _follow(plan, job, command, result)
    except sudo.SudoFailed as exc:  # the command never ran: sudo's reason is the host's error
        result.error = explained(exc)


def _start_remote(plan: RunPlan, spec: HostSpec, markers: sudo.Markers) -> RemoteCommand:
    """Open the channel; a pooled connection that died meanwhile is replaced once. The
    transport goes back to the pool (`release`) when the command is done with it."""
    text = plan.command if plan.sudo is None else sudo.sudo_command(plan.command, markers, plan.sudo.user)
    reused = plan.state.pool.peek(spec.pool_key) is not None
    transport = pooled_transport(plan.state, spec, plan.options)
    try:
        return RemoteCommand(transport, text, plan.timeout, stdin=plan.sudo is not None)
    except Exception:
        plan.state.pool.release(spec.pool_key, transport)
        if not reused:
            raise
        swallowed(f"opening a channel to {spec.name} on a kept connection (reopening it)")
        plan.state.pool.drop(spec.pool_key)  # e.g. the server closed an idle pooled connection
        transport = pooled_transport(plan.state, spec, plan.options)
        try:
            return RemoteCommand(transport, text, plan.timeout, stdin=plan.sudo is not None)
        except Exception:
            plan.state.pool.release(spec.pool_key, transport)
            raise


def _follow(plan: RunPlan, job: Job, command: Any, result: HostResult) -> None:
    deadline = command.started + plan.timeout
    try:
        while not command.done:
            if job.cancelled():
                command.stop()
                result.error = "cancelled"
                return
            if time.monotonic() >= deadline:
                command.stop()
                result.error = f"timed out after {plan.timeout:g}s (stopped)"
                return
            for stream, text in command.read_text(min(0.1, max(deadline - time.monotonic(), 0.0))):
                if plan.stream:
                    job.emit(stream, text)
                if plan.keep_output:
                    result.output.append((stream, text))
        result.exit = command.exit_status
        if result.exit is None:
            result.error = command.ending or "killed by a signal"
    finally:
        command.close()
