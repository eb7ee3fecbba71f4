"""One host's share of `run`: get a connection, run the command, stream its lines, obey the
command timeout and the run's cancellation."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsh.commands.shared.fanout.control import Job
from opsh.commands.ssh.exec.local import LocalCommand
from opsh.commands.ssh.exec.outcome import HostResult, host_error
from opsh.commands.ssh.exec.remote import RemoteCommand
from opsh.commands.ssh.transport.conn import ConnectOptions, pooled_transport
from opsh.shell.errors import swallowed

if TYPE_CHECKING:
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


def run_on_host(plan: RunPlan, job: Job) -> HostResult:
    result = HostResult(job.target)
    started = time.monotonic()
    try:
        if job.target == "local":
            command: Any = LocalCommand(plan.command, plan.cwd)
        else:
            command = _start_remote(plan, plan.specs[job.target])
    except Exception as exc:  # noqa: BLE001 - reported for this host only
        result.error = host_error(exc)
        result.seconds = time.monotonic() - started
        return result
    job.running(command)
    result.reached = True
    _follow(plan, job, command, result)
    result.seconds = time.monotonic() - started
    return result


def _start_remote(plan: RunPlan, spec: HostSpec) -> RemoteCommand:
    """Open the channel; a pooled connection that died meanwhile is replaced once."""
    reused = plan.state.pool.peek(spec.pool_key) is not None
    transport = pooled_transport(plan.state, spec, plan.options)
    try:
        return RemoteCommand(transport, plan.command, plan.timeout)
    except Exception:
        if not reused:
            raise
        swallowed(f"opening a channel to {spec.name} on a kept connection (reopening it)")
        plan.state.pool.drop(spec.pool_key)  # e.g. the server closed an idle pooled connection
        return RemoteCommand(pooled_transport(plan.state, spec, plan.options), plan.command, plan.timeout)


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
