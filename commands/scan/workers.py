"""A large scan shared by forked processes: the parent and N-1 workers each run the scan loop;
`run_scan` decides how many there are (one for everyday scans).

Why processes: the poll loop spends its time in Python, about 11 us of CPU per probe, so on a
fast network one core is the limit; threads would share one interpreter lock. Workers are forked
copies (no new interpreter to start, nothing to import) that only open sockets. Each scans every
N-th probe (`Scanner(share=...)`) with 1/N of the concurrency and the open-files limit raised in
its own process, and talks to the parent over its own pipe in records of one type byte and one
8-byte number: `P` + probes done so far (at most ten times a second, for the progress bar), then
`R` + length + its tallies in marshal format (ints, strings and lists: compact and quick).

Ctrl-C: in a terminal SIGINT reaches the whole foreground process group; in a worker it only
asks the loop to stop (no KeyboardInterrupt that could land anywhere), and the parent, which
gets KeyboardInterrupt as usual, passes SIGINT on to workers that may not have had it. Workers
then send what they found; after GRACE seconds the rest are killed, and every worker is reaped
before the scan returns. A worker never writes to the terminal (its stdin, stdout and stderr are
/dev/null), never returns into the shell's code and leaves through os._exit, so no opsh cleanup
(history, connections, atexit) runs twice.
"""

from __future__ import annotations

import gc
import marshal
import os
import select
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from opsh.commands.scan.model import DEFAULT_CONCURRENCY, LIST_LIMIT, HostTally, ScanOutcome, Target
from opsh.commands.scan.probe import TICK, Scanner
from opsh.shell.errors import OpshError, swallowed

PROGRESS = ord("P")
RESULT = ord("R")
HEADER = 9  # one type byte, one 8-byte big-endian number
REPORT_EVERY = 0.1  # a worker's progress messages: the bar redraws at most ten times a second anyway
DRAIN_EVERY = 0.05  # while it scans its own share, the parent reads its workers' pipes this often
GRACE = 1.0  # after Ctrl-C, how long workers get to send what they found before SIGKILL
# Above SPLIT_ABOVE probes the scan is shared by up to MAX_WORKERS processes (one per CPU), each
# with at least PROBES_PER_WORKER probes. Measured on 2 cores against loopback: a worker costs
# about 3 ms (forking a 57 MB shell, its first page faults, collecting its results), a probe
# 10-15 us of CPU, so two processes win from about 1,000 probes on (17 -> 13 ms; 8,000 probes:
# 124 -> 69 ms). Below 8,000 one process takes a tenth of a second at most and the saving goes
# unnoticed, so everyday scans (top ports of a few hosts, 1-1024) stay in one process and
# full-range and subnet scans are split.
SPLIT_ABOVE = 8000
PROBES_PER_WORKER = 4000
MAX_WORKERS = 4

# (done, error or None, [(host, open, closed, filtered, {port: banner}, [closed], [filtered], {port: service})])
Packed = tuple[int, "tuple[str, str | None] | None", list[tuple[Any, ...]]]


class _CannotFork(Exception):
    """Out of processes or memory for another one: the scan then runs in one process."""


@dataclass
class _Worker:
    pid: int
    fd: int  # the read end of its pipe
    buffer: bytearray = field(default_factory=bytearray)
    reported: int = 0  # probes it said it has done
    result: Packed | None = None
    eof: bool = False
    garbled: bool = False
    reaped: bool = False
    status: int = 0


class SplitScan:
    """The parent's side: fork the workers, scan share 0, gather progress and results, merge."""

    def __init__(
        self,
        targets: list[Target],
        ports: Sequence[int],
        count: int,
        *,
        advance: Callable[[int], None] | None = None,
        concurrency: int,
        **options: Any,
    ) -> None:
        self.targets = targets
        self.ports = ports
        self.count = count
        self.advance = advance
        self.concurrency = concurrency
        self.options = options
        self.workers: list[_Worker] = []
        self.own: Scanner | None = None
        self.next_drain = 0.0
        self.held = False

    def run(self) -> ScanOutcome:
        started = time.monotonic()
        interrupted = alone = False
        try:
            try:
                self._spawn()
                self.own = self._scanner(0, self._own_turn)
                interrupted = self.own.run().interrupted
                if not interrupted:
                    self._collect(None)
            except KeyboardInterrupt:
                interrupted = True
            if interrupted:
                self._stop_workers()
        except _CannotFork:
            swallowed("forking scan workers (the scan runs in this process instead)")
            alone = True  # out of processes: the whole scan runs in this one instead
        finally:
            self._reap_all()
        if alone:
            self.workers.clear()
            return Scanner(
                self.targets, self.ports, concurrency=self.concurrency, advance=self.advance, **self.options
            ).run()
        return self._merge(started, interrupted)

    def _scanner(self, share: int, advance: Callable[[int], None]) -> Scanner:
        quotient, remainder = divmod(self.concurrency, self.count)
        options = dict(self.options, concurrency=quotient + (share < remainder), advance=advance)
        return Scanner(self.targets, self.ports, share=(share, self.count), **options)

    # ------------------------------------------------------------ starting the workers

    def _spawn(self) -> None:
        """Fork the workers with SIGINT held back: a Ctrl-C now must neither leave a forked
        worker untracked in the parent nor reach a worker before it has its own handler."""
        on_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, self._hold) if on_main else None
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            for share in range(1, self.count):
                self._fork(share, mask)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            if on_main:
                signal.signal(signal.SIGINT, previous)
        if self.held:
            raise KeyboardInterrupt

    def _hold(self, signum: int, frame: object) -> None:
        self.held = True

    def _fork(self, share: int, mask: set[int | signal.Signals]) -> None:
        read_fd, write_fd = os.pipe()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns about fork in a process with threads (a database handle's
                # worker, the registry loader): a lock another thread held stays locked in the
                # child. The worker takes none: it runs the socket loop and writes to its pipe.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            raise _CannotFork from None
        if pid == 0:
            os.close(read_fd)  # else a dead parent would go unnoticed: the pipe would keep a reader
            self._worker_main(share, write_fd, mask)
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        self.workers.append(_Worker(pid, read_fd))

    def _worker_main(self, share: int, fd: int, mask: set[int | signal.Signals]) -> NoReturn:
        """The worker's whole life: scan its share, send the tallies, os._exit."""
        code = 1
        try:
            gc.freeze()  # collections must not touch (and so copy) every page shared with the parent
            _away_from_terminal()
            for other in self.workers:
                os.close(other.fd)
            report = _Reporter(fd)
            scanner = self._scanner(share, report)
            report.on_lost = scanner.stop
            signal.signal(signal.SIGINT, lambda signum, frame: scanner.stop())
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            error = None
            try:
                scanner.run()
            except OpshError as exc:
                error = (exc.message, exc.hint)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            _write_all(fd, _record(RESULT, marshal.dumps(pack(scanner, error))))
            code = 0
        finally:
            os._exit(code)

    # ------------------------------------------------------------ progress and results

    def _own_turn(self, count: int) -> None:
        """Called on every turn of the parent's own loop: its progress, then its workers'."""
        if count and self.advance is not None:
            self.advance(count)
        now = time.monotonic()
        if now >= self.next_drain:
            self.next_drain = now + DRAIN_EVERY
            for worker in self.workers:
                if not worker.eof:
                    self._read(worker)

    def _read(self, worker: _Worker) -> None:
        try:
            data = os.read(worker.fd, 1 << 16)
        except BlockingIOError:
            return
        if not data:
            worker.eof = True
            return
        worker.buffer += data
        self._parse(worker)

    def _parse(self, worker: _Worker) -> None:
        buffer = worker.buffer
        if worker.garbled:
            buffer.clear()
        while len(buffer) >= HEADER:
            kind, number = buffer[0], int.from_bytes(buffer[1:HEADER], "big")
            if kind == PROGRESS:
                done, size = number, 0
            elif len(buffer) < HEADER + number:
                return  # the rest of the result is still on its way
            else:
                try:
                    worker.result = marshal.loads(bytes(buffer[HEADER : HEADER + number]))
                except (EOFError, ValueError, TypeError):
                    # Only a Ctrl-C between a read and keeping its bytes can garble the stream:
                    # the scan is interrupted then, and this worker's share counts as not done.
                    worker.garbled = True
                    return
                done, size = worker.result[0], number
            del buffer[: HEADER + size]
            if done > worker.reported:
                if self.advance is not None:
                    self.advance(done - worker.reported)
                worker.reported = done

    def _collect(self, deadline: float | None) -> None:
        """Read every worker's pipe until it closes (the worker exited) or the deadline."""
        poller = select.poll()
        waiting = {w.fd: w for w in self.workers if not w.eof}
        for fd in waiting:
            poller.register(fd, select.POLLIN)
        while waiting:
            wait = TICK if deadline is None else max(0.0, min(TICK, deadline - time.monotonic()))
            for fd, _ in poller.poll(wait * 1000):
                worker = waiting[fd]
                self._read(worker)
                if worker.eof:
                    poller.unregister(fd)
                    del waiting[fd]
            if deadline is not None and time.monotonic() >= deadline:
                return

    def _stop_workers(self) -> None:
        """After Ctrl-C: ask every worker to stop, then take what they send within GRACE
        seconds (a second Ctrl-C stops waiting)."""
        for worker in self.workers:
            if not worker.eof:
                try:
                    os.kill(worker.pid, signal.SIGINT)
                except ProcessLookupError:
                    swallowed("passing Ctrl-C on to a scan worker that had already exited")
        deadline = time.monotonic() + GRACE
        while True:
            try:
                self._collect(deadline)
                return
            except KeyboardInterrupt:
                deadline = time.monotonic()

    def _reap_all(self) -> None:
        """No worker outlives the scan: those still running are killed, each one is reaped."""
        for worker in self.workers:
            while not worker.reaped:
                try:
                    if not worker.eof:
                        os.kill(worker.pid, signal.SIGKILL)
                    _, worker.status = os.waitpid(worker.pid, 0)
                    worker.reaped = True
                except (ProcessLookupError, ChildProcessError):
                    worker.reaped = True  # reaped by someone else already
                except KeyboardInterrupt:
                    continue
            if worker.fd >= 0:
                os.close(worker.fd)
                worker.fd = -1

    def _merge(self, started: float, interrupted: bool) -> ScanOutcome:
        parts = [pack(self.own, None)] if self.own is not None else []
        for worker in self.workers:
            if worker.result is not None:
                parts.append(worker.result)
            elif not interrupted:
                raise OpshError(f"scan: a worker process ended without its results ({_how_it_ended(worker.status)})")
        errors = [part[1] for part in parts if part[1] is not None]
        if errors and not interrupted:
            raise OpshError(*errors[0])
        limit = None if self.options.get("keep_all") else LIST_LIMIT
        tallies = [HostTally() for _ in self.targets]
        for _, _, hosts in parts:
            for host, opened, closed, filtered, banners, closed_list, filtered_list, services in hosts:
                _add(tallies[host], (opened, closed, filtered), banners, (closed_list, filtered_list), limit)
                tallies[host].services.update(services)
        done = sum(part[0] for part in parts)
        probes = len(self.targets) * len(self.ports)
        return ScanOutcome(
            self.targets,
            tallies,
            probes,
            done,
            time.monotonic() - started,
            interrupted or done < probes,
            self.concurrency,
            workers=self.count,
        )


def pack(scanner: Scanner, error: tuple[str, str | None] | None) -> Packed:
    """A scanner's tallies as plain data, only for the hosts it has something about."""
    hosts = [
        (
            host,
            tally.counts["open"],
            tally.counts["closed"],
            tally.counts["filtered"],
            tally.open,
            tally.listed["closed"],
            tally.listed["filtered"],
            tally.services,
        )
        for host, tally in enumerate(scanner.tallies)
        if tally.counts
    ]
    return scanner.done, error, hosts


def _add(
    tally: HostTally,
    counts: tuple[int, int, int],
    banners: dict[int, str],
    listed: tuple[list[int], list[int]],
    limit: int | None,
) -> None:
    for state, count in zip(("open", "closed", "filtered"), counts, strict=True):
        if count:
            tally.counts[state] += count
    tally.open.update(banners)
    for state, ports in zip(("closed", "filtered"), listed, strict=True):
        kept = tally.listed[state]
        kept += ports
        if limit is not None:
            del kept[limit + 1 :]  # a sample, as one scanner keeps it: the counts tell the rest


class _Reporter:
    """A worker's progress, sent to the parent at most every REPORT_EVERY seconds. A write that
    fails means the parent is gone: the worker then stops instead of scanning for nobody."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.done = 0
        self.sent = 0
        self.next = 0.0
        self.on_lost: Callable[[], None] = lambda: None

    def __call__(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now < self.next or self.done == self.sent:
            return
        self.next = now + REPORT_EVERY
        self.sent = self.done
        try:
            os.write(self.fd, _record(PROGRESS, b"", self.done))
        except OSError:
            self.on_lost()


def _record(kind: int, payload: bytes, number: int | None = None) -> bytes:
    return bytes((kind,)) + (len(payload) if number is None else number).to_bytes(8, "big") + payload


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _away_from_terminal() -> None:
    """stdin, stdout and stderr of a worker become /dev/null: whatever happens, it cannot
    write over the prompt or read what the user types."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _how_it_ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


# ---------------------------------------------------------------- one process or several


def run_scan(targets: list[Target], ports: Sequence[int], workers: int | None = None, **options: Any) -> ScanOutcome:
    """The scan itself, without the command around it (the benchmark calls this). `workers`
    forces the number of processes; by default large scans use the CPUs there are."""
    options.setdefault("concurrency", DEFAULT_CONCURRENCY)
    probes = len(targets) * len(ports)
    wanted = worker_count(probes, options["concurrency"]) if workers is None else workers
    count = min(wanted, options["concurrency"], probes)
    if count > 1 and can_fork():
        return SplitScan(targets, ports, count, **options).run()
    return Scanner(targets, ports, **options).run()


def worker_count(probes: int, concurrency: int) -> int:
    """How many processes a scan of this size is worth (1 below SPLIT_ABOVE probes)."""
    if probes <= SPLIT_ABOVE:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS, probes // PROBES_PER_WORKER, concurrency))


def can_fork() -> bool:
    """Linux only: there a forked copy of the shell that runs nothing but sockets is safe."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")
