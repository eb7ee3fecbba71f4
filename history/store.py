"""Persistent history: one JSON line per input, secrets redacted before they touch the disk.

Each entry keeps when it ran, the mode it ran in and its exit status, so `history` can show
what failed and `history save` can turn a stretch of work into a script. The prompt's
up-arrow and Ctrl-R search read the same file through `PromptHistory`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from opsh.shell.errors import swallowed
from opsh.shell.redact import redact

if TYPE_CHECKING:
    from prompt_toolkit.history import History

    from opsh.shell.session import LineHistory

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Entry:
    time: float
    mode: str
    line: str
    exit: int


class HistoryStore:
    """Append-only JSONL file; trimmed to MAX_ENTRIES when it grows past twice that.

    `append` raises OSError when the disk is full: the REPL turns that into one warning and
    goes on (history is best-effort, never worth the session)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, line: str, mode: str, exit_code: int, when: float | None = None) -> Entry:
        entry = Entry(when if when is not None else time.time(), mode, redact(line), exit_code)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
        return entry

    def entries(self) -> list[Entry]:
        return list(self._read())

    def _read(self) -> Iterator[Entry]:
        try:
            handle = open(self.path, encoding="utf-8")  # noqa: SIM115
        except FileNotFoundError:
            return
        except OSError:
            swallowed("reading the history file")  # unreadable history: start without it
            return
        with handle:
            for raw in handle:
                try:
                    data = json.loads(raw)
                    yield Entry(float(data["time"]), str(data["mode"]), str(data["line"]), int(data["exit"]))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn or foreign line is skipped, never fatal

    def trim(self) -> None:
        entries = self.entries()
        if len(entries) <= 2 * MAX_ENTRIES:
            return
        keep = entries[-MAX_ENTRIES:]
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in keep)
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)


def prompt_history(store: LineHistory | None) -> History:
    """A prompt_toolkit History over the store (imported lazily with prompt_toolkit)."""
    from prompt_toolkit.history import History

    class PromptHistory(History):
        """Up-arrow and Ctrl-R over the persistent file; writing is done by the shell after the
        line ran (so the entry carries its exit status), never here."""

        def load_history_strings(self) -> Iterable[str]:
            if store is None:
                return []
            seen: set[str] = set()
            out = []
            for entry in reversed(store.entries()):
                if entry.line not in seen:
                    seen.add(entry.line)
                    out.append(entry.line)
            return out

        def store_string(self, string: str) -> None:
            pass

        def append_string(self, string: str) -> None:
            super().append_string(redact(string))

    return PromptHistory()
