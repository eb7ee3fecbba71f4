"""The queue mode: one handle, three backends, the study sheet's verbs on every one.

    put TUBE DATA [--delay S] [--ttl S] [--pri N]     take TUBE [TIMEOUT]
    ack ID (finish)    release ID (abort)    peek TUBE|ID    bury ID    kick TUBE [N]
    delete ID          stats [TUBE]          tubes
    call FUNC ARGS     select SPACE [KEY]    eval LUA        (tarantool)

Task ids are what the server gives (Kestrel has none, so the handle numbers its takes). The
handle remembers which tube each id it has seen belongs to, so `ack 7` is enough; `ack
emails:7` names the tube when the handle has not seen the task (or two tubes share an id).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from opsh.commands.queues import guard
from opsh.commands.queues.backends.base import Backend, Task
from opsh.commands.queues.render import kick_result, stats_result, task_result, tubes_result
from opsh.commands.queues.syntax import parse_data, parse_line
from opsh.commands.queues.waiting import wait_for
from opsh.shell.errors import Cancelled, NotFound, UsageError
from opsh.shell.handles import Handle
from opsh.shell.result import Result
from opsh.shell.syntax.rjson import parse_words

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.lexers import Lexer

    from opsh.shell.session import Session

_HAS_ID = re.compile(r"^(?P<tube>.+):(?P<id>[^:]+)$")


class CleanInterrupt(KeyboardInterrupt):
    """Ctrl-C between two wait slices: the connection is in step, nothing to reset."""


class QueueHandle(Handle):
    def __init__(self, name: str, endpoint: str, backend: Backend, **kw: Any) -> None:
        super().__init__(name, endpoint, **kw)
        self.backend = backend
        self.kind = backend.scheme
        self.server_name = backend.server_name
        self.address = backend.address
        self.seen: dict[str, set[str]] = {}  # str(task id) -> tubes where this handle saw it
        self.taken: dict[tuple[str, str], Task] = {}
        self.known_tubes: set[str] = set()
        self._clean_interrupt = False

    # ------------------------------------------------------------ connection

    def ping(self) -> None:
        self.backend.ping()

    def close(self) -> None:
        self.backend.close()

    def cancel(self) -> None:
        """After Ctrl-C: reconnect unless the interrupt came cleanly between wait slices."""
        if self._clean_interrupt:
            self._clean_interrupt = False
            return
        self.forget_takes()
        self.backend.reset()

    # ------------------------------------------------------------ the one reconnect path

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        return self.backend.connection_errors()

    def drop(self) -> list[str]:
        self.backend.drop()
        return self.forget_takes()

    def reconnect(self) -> None:
        self.backend.reset()

    def connection_stale(self) -> bool:
        return self.backend.connection_stale()

    def forget_takes(self) -> list[str]:
        """Tasks this connection took that the server gave back when it ended (Tarantool's
        sessions, Kestrel's open reads): forgotten, and said."""
        if not self.backend.takes_die_with_connection or not self.taken:
            return []
        by_tube: dict[str, list[str]] = {}
        for tube, text in sorted(self.taken):
            by_tube.setdefault(tube, []).append(text)
        self.taken.clear()
        parts = []
        for tube, ids in by_tube.items():
            noun = "task" if len(ids) == 1 else "tasks"
            verb = "was" if len(ids) == 1 else "were"
            parts.append(f"{noun} {', '.join(ids)} of {tube} {verb} returned to the queue when the connection ended")
        return parts

    # ------------------------------------------------------------ mode

    def toolbar(self) -> str:
        return f"{len(self.taken)} taken" if self.taken else ""

    def lexer(self) -> Lexer | None:
        from opsh.commands.queues.complete import QueueLexer

        return QueueLexer()

    def completer(self, session: Session) -> Completer | None:
        from opsh.commands.queues.complete import QueueCompleter

        return QueueCompleter(self)

    def execute(self, session: Session, statement: str) -> Result:
        line = parse_line(statement)
        if line is None:
            return Result.empty()
        guard.refuse_writes(self.readonly, line.verb.name)
        run = getattr(self, "_" + line.verb.name)
        self._clean_interrupt = False
        result: Result = run(session, line.args)
        result.force_format = line.fmt
        return result

    # ------------------------------------------------------------ ids

    def _remember(self, task: Task | None) -> Task | None:
        if task is None:
            return None
        self.known_tubes.add(task.tube)
        if task.id is not None:
            self.seen.setdefault(str(task.id), set()).add(task.tube)
            key = (task.tube, str(task.id))
            if task.status == "taken":
                self.taken[key] = task
            else:
                self.taken.pop(key, None)
        return task

    def resolve(self, text: str) -> tuple[str, Any]:
        """(tube, backend id) for `7` (a task this handle has seen) or `emails:7`."""
        tubes = self.seen.get(text)
        if tubes and len(tubes) == 1:
            return next(iter(tubes)), self.backend.parse_id(text)
        match = _HAS_ID.match(text)
        if match:
            return match.group("tube"), self.backend.parse_id(match.group("id"))
        if tubes:
            names = ", ".join(f"{t}:{text}" for t in sorted(tubes))
            raise UsageError(f"task id {text} is in several tubes", f"write one of {names}")
        raise NotFound(f"unknown task id {text}", f"write TUBE:{text} for a task this session has not seen")

    # ------------------------------------------------------------ verbs

    def _task_result(self, task: Task | None, status: str, empty: str = "") -> Result:
        self._remember(task)
        return task_result(task, status, empty)

    def _put(self, session: Session, args: Any) -> Result:
        data = parse_data(args.data)
        task = self.backend.put(args.tube, data, args.delay, args.ttl, args.pri)
        label = f" {task.id}" if task.id is not None else ""
        return self._task_result(task, f"put{label} into {args.tube}")

    def _take(self, session: Session, args: Any) -> Result:
        timeout = float(args.timeout or 0)
        if self.backend.waits_on_server:
            task = self._take_waiting_on_server(args.tube, timeout)
        else:
            try:
                task = wait_for(lambda wait: self.backend.take(args.tube, wait), timeout)
            except KeyboardInterrupt:
                self._clean_interrupt = True
                raise CleanInterrupt from None
        waited = f" (waited {timeout:g}s)" if timeout else ""
        return self._task_result(
            task, f"took {task.id} from {args.tube}" if task else "", f"{args.tube} is empty{waited}"
        )

    def _take_waiting_on_server(self, tube: str, timeout: float) -> Task | None:
        """One take that waits on the server. Ctrl-C stops it by dropping the connection (the
        server cannot be told to stop waiting); what the connection held goes back to the queue
        with it, and the line says so."""
        try:
            return self.backend.take(tube, timeout)
        except KeyboardInterrupt:
            forgotten = self.drop()
            self.lost = True  # the next command reconnects
            raise Cancelled("cancelled" + (f": {'; '.join(forgotten)}" if forgotten else "")) from None

    def _ack(self, session: Session, args: Any) -> Result:
        tube, task_id = self.resolve(args.id)
        return self._task_result(self.backend.ack(tube, task_id), f"acked {tube}:{task_id}")

    def _release(self, session: Session, args: Any) -> Result:
        tube, task_id = self.resolve(args.id)
        task = self.backend.release(tube, task_id, args.delay)
        return self._task_result(task, f"released {tube}:{task_id}")

    def _peek(self, session: Session, args: Any) -> Result:
        target = args.target
        if target in self.seen or _HAS_ID.match(target):
            tube, task_id = self.resolve(target)
            task = self.backend.peek(tube, task_id)
            if task is None:
                raise NotFound(f"no task {task_id} in {tube}")
            return self._task_result(task, "")
        if target.isdigit() and target not in self.known_tubes:
            raise NotFound(f"unknown task id {target}", f"write TUBE:{target}, or peek a tube by name")
        return self._task_result(self.backend.peek_tube(target), "", f"{target} has no ready task")

    def _bury(self, session: Session, args: Any) -> Result:
        tube, task_id = self.resolve(args.id)
        return self._task_result(self.backend.bury(tube, task_id), f"buried {tube}:{task_id}")

    def _kick(self, session: Session, args: Any) -> Result:
        if args.count < 1:
            raise UsageError("kick: N must be at least 1")
        kicked = self.backend.kick(args.tube, args.count)
        return kick_result(args.tube, kicked)

    def _delete(self, session: Session, args: Any) -> Result:
        tube, task_id = self.resolve(args.id)
        return self._task_result(self.backend.delete(tube, task_id), f"deleted {tube}:{task_id}")

    def _stats(self, session: Session, args: Any) -> Result:
        if args.tube:
            return Result.mapping(self.backend.tube_stats(args.tube))
        rows = self.backend.stats()
        self.known_tubes.update(row["tube"] for row in rows)
        return stats_result(rows)

    def _tubes(self, session: Session, args: Any) -> Result:
        names = self.backend.tubes()
        self.known_tubes.update(names)
        return tubes_result(names)

    def _call(self, session: Session, args: Any) -> Result:
        values = self.backend.call(args.function, parse_words(args.args))
        return Result.doc(values, format_hint="json")

    def _select(self, session: Session, args: Any) -> Result:
        if args.limit < 1:
            raise UsageError("select: --limit must be at least 1")
        headers, rows = self.backend.select(args.space, parse_words(args.key), args.limit)
        return Result.table(headers, rows)

    def _eval(self, session: Session, args: Any) -> Result:
        return Result.doc(self.backend.eval(str(args.lua)), format_hint="json")

    def _help(self, session: Session, args: Any) -> Result:
        from opsh.commands.queues.help import mode_help

        return mode_help(self.kind, args.verb)

    def _exit(self, session: Session, args: Any) -> Result:
        session.use("local")
        return Result.empty(status="local mode")

    # ------------------------------------------------------------ completion data

    def tube_names(self) -> Iterable[str]:
        return sorted(self.known_tubes)

    def task_ids(self, taken_only: bool = False) -> list[str]:
        """Ids to offer: `7` when only one tube has it, else `emails:7` for each."""
        pairs = self.taken if taken_only else {(t, i) for i, tubes in self.seen.items() for t in tubes}
        out = []
        for tube, text in sorted(pairs):
            out.append(text if len(self.seen.get(text, ())) <= 1 else f"{tube}:{text}")
        return out
