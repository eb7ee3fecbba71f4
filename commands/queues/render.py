"""Tasks and queue figures as Results: always tables, so `--format json|csv` and `\\> file`
give scripts the same columns whatever the backend."""

from __future__ import annotations

from typing import Any

from opsh.commands.queues.backends.base import STATS_COLUMNS, Task
from opsh.shell.result import Result

TASK_HEADERS = ["tube", "id", "status", "data"]


def task_result(task: Task | None, status: str, empty: str = "") -> Result:
    if task is None:  # an empty table, so `--format json` still prints [] for scripts
        return Result.table(TASK_HEADERS, [], status=empty)
    return Result.table(TASK_HEADERS, [task.row()], status=status)


def stats_result(rows: list[dict[str, Any]]) -> Result:
    """One row per tube; only the columns some backend row has (Kestrel has no buried)."""
    columns = [c for c in STATS_COLUMNS if any(c in row for row in rows)] or list(STATS_COLUMNS)
    return Result.table(columns, [[row.get(c) for c in columns] for row in rows])


def kick_result(tube: str, kicked: int) -> Result:
    return Result.mapping([("tube", tube), ("kicked", kicked)], status=f"kicked {kicked} in {tube}")


def tubes_result(names: list[str]) -> Result:
    return Result.table(["tube"], [[n] for n in names])
