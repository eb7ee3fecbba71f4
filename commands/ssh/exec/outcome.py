"""One host's result in a run or a copy, as the fan-out engine reports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsh.shell.errors import describe


@dataclass
class HostResult:
    host: str
    exit: int | None = None
    error: str | None = None
    seconds: float = 0.0
    # (stream, text) in the order it came, when kept; the texts joined are the bytes as sent
    output: list[tuple[str, str]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    reached: bool = False  # the command started on the host (then a failure is not "not reached")

    @property
    def ok(self) -> bool:
        return self.error is None and self.exit == 0

    @property
    def stdout(self) -> str:
        return "".join(text for stream, text in self.output if stream == "out")

    @property
    def stderr(self) -> str:
        return "".join(text for stream, text in self.output if stream == "err")


def failed_host(host: str, error: str) -> HostResult:
    """The result of a host whose work raised, or never ran (the fan-out's `failed`)."""
    return HostResult(host, error=error)


def host_error(exc: BaseException) -> str:
    """One host's failure as its error cell; a host key refusal keeps its remedy (the
    `ssh-keygen -R` line, `--accept-new`), as `connect` shows it."""
    from opsh.commands.ssh.transport.hostkeys import HostKeyChanged, HostKeyUnknown

    described = describe(exc)
    if isinstance(exc, HostKeyChanged | HostKeyUnknown) and described.hint:
        return f"{described.message} ({described.hint})"
    return described.message
