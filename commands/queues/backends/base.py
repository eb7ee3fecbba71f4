"""What every queue backend offers, in the study sheet's verbs, and the shape of a task.

A backend speaks one server's protocol (tarantool queue API, a Redis reliable list queue,
Kestrel's memcache protocol); the handle (../handle.py) turns lines into these calls and tasks
into Results (../render.py). A verb a backend cannot do raises a clear error naming the backend.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from opsh.shell.errors import UsageError

STATUS_WORDS = {"r": "ready", "t": "taken", "-": "done", "!": "buried", "~": "delayed"}
STATS_COLUMNS = ("tube", "ready", "taken", "delayed", "buried", "done", "total")


@dataclass
class Task:
    tube: str
    id: Any
    status: str  # ready | taken | done | buried | delayed
    data: Any
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self) -> list[Any]:
        return [self.tube, self.id, self.status, self.data]


class Backend:
    """Defaults refuse; each backend overrides what its server can do."""

    scheme = "queue"
    server_name = "queue"
    address = ""
    # Whether what a connection took goes back to the queue when the connection ends
    # (Tarantool's queue sessions, Kestrel's open reads), so a lost connection forgets it.
    takes_die_with_connection = False
    # Whether a timed take is one wait on the server (Ctrl-C then drops the connection) rather
    # than short polls that Ctrl-C can stop between (redisq, where a task taken by a dropped
    # connection would be stranded instead of returned).
    waits_on_server = False

    def _unsupported(self, what: str) -> UsageError:
        return UsageError(f"{self.scheme} queues have no {what}", "type `help` for what this backend supports")

    # -- connection
    def ping(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release the connection; must not raise."""

    def reset(self) -> None:
        """Reconnect after an interrupt left the connection in an unknown state."""

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        """What the driver raises when the connection is gone (see Handle.connection_guard)."""
        return (ConnectionError, TimeoutError)

    def drop(self) -> None:
        """Close the dead connection and forget what it held; must not raise."""
        self.close()

    def connection_stale(self) -> bool:
        """Whether the server closed the idle connection (see Handle.connection_stale)."""
        return False

    def parse_id(self, text: str) -> Any:
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"bad task id {text!r}", "ids are numbers") from None

    # -- verbs
    def put(self, tube: str, data: Any, delay: float | None, ttl: float | None, pri: int | None) -> Task:
        raise self._unsupported("put")

    def take(self, tube: str, wait: float) -> Task | None:
        """One wait of at most `wait` seconds (0: do not wait)."""
        raise self._unsupported("take")

    def ack(self, tube: str, task_id: Any) -> Task:
        raise self._unsupported("ack")

    def release(self, tube: str, task_id: Any, delay: float | None) -> Task:
        raise self._unsupported("release")

    def peek_tube(self, tube: str) -> Task | None:
        raise self._unsupported("peek of a tube")

    def peek(self, tube: str, task_id: Any) -> Task | None:
        raise self._unsupported("peek by id")

    def bury(self, tube: str, task_id: Any) -> Task:
        raise self._unsupported("bury")

    def kick(self, tube: str, count: int) -> int:
        raise self._unsupported("kick")

    def delete(self, tube: str, task_id: Any) -> Task:
        raise self._unsupported("delete")

    def stats(self) -> list[dict[str, Any]]:
        """One row per tube with the STATS_COLUMNS keys (missing ones shown empty)."""
        raise self._unsupported("stats")

    def tube_stats(self, tube: str) -> list[tuple[str, Any]]:
        raise self._unsupported("stats")

    def tubes(self) -> list[str]:
        return sorted(row["tube"] for row in self.stats())

    # -- tarantool only
    def call(self, function: str, args: list[Any]) -> Any:
        raise self._unsupported("call (tarantool only)")

    def select(self, space: str, key: list[Any], limit: int) -> tuple[list[str], list[list[Any]]]:
        raise self._unsupported("select (tarantool only)")

    def eval(self, lua: str) -> Any:
        raise self._unsupported("eval (tarantool only)")


def as_bytes(data: Any) -> bytes:
    """Data for byte-oriented queues: text as is, anything else as compact JSON."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def from_bytes(raw: bytes) -> Any:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw
