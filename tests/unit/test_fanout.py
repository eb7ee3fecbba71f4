"""The one fan-out engine with plain work functions (no server): the events a handler gets and
their order, at most `fanout` targets at a time, questions answered on the main thread (as
they come, or held and asked together), Ctrl-C (a real SIGINT), a consumer that goes away, a
slow consumer slowing the work down, and the outcome behind @ok / @failed."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from opsh.commands.shared.fanout.control import BUFFER, Job
from opsh.commands.shared.fanout.engine import FanOut
from opsh.commands.shared.fanout.events import Done, Handler, Question, Start
from opsh.shell.background import Background
from opsh.shell.errors import OpshError, UsageError


@dataclass
class Reply:
    target: str
    value: Any = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def failed(target: str, error: str) -> Reply:
    return Reply(target, error=error)


@dataclass
class Recorder(Handler[Reply]):
    """Every event, in the order the main thread got it, and on which thread."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)

    def _note(self, *event: Any) -> None:
        self.threads.add(threading.current_thread().name)
        self.events.append(event)

    def ev_start(self, target: str) -> None:
        self._note("start", target)

    def ev_output(self, target: str, stream: str, text: str) -> None:
        self._note("output", target, stream, text)

    def ev_progress(self, target: str, amount: int) -> None:
        self._note("progress", target, amount)

    def ev_done(self, target: str, result: Reply) -> None:
        self._note("done", target, result.value, result.error)

    def ev_cancelled(self, target: str, result: Reply) -> None:
        self._note("cancelled", target, result.error)

    def of(self, target: str) -> list[str]:
        return [event[0] for event in self.events if event[1] == target]


def started(targets: list[str], work: Callable[[Job], Reply], fanout: int = 4) -> FanOut[Reply]:
    fan = FanOut(targets, work, failed, fanout)
    fan.start(Background())
    return fan


def test_each_target_reports_start_output_progress_then_done():
    def work(job: Job) -> Reply:
        job.emit("out", f"hello from {job.target}\n")
        job.emit("err", "a warning\n")
        job.progress(512)
        return Reply(job.target, value=len(job.target))

    targets = ["web1", "web2", "db10"]
    fan = started(targets, work)
    handler = Recorder()
    fan.wait(handler)
    for target in targets:
        assert handler.of(target) == ["start", "output", "output", "progress", "done"]
    assert ("output", "web2", "out", "hello from web2\n") in handler.events
    assert ("done", "db10", 4, None) in handler.events
    assert handler.threads == {"MainThread"}
    assert [r.value for r in fan.ordered()] == [4, 4, 4] and not fan.interrupted


def test_a_failing_target_is_its_own_error_and_the_outcome_names_it():
    def work(job: Job) -> Reply:
        if job.target == "bad":
            raise UsageError("no such table", "check the name")
        if job.target == "worse":
            return Reply(job.target, error="exit 3")
        time.sleep(0.02)
        return Reply(job.target, value="fine")

    fan = started(["a", "bad", "b", "worse"], work)
    handler = Recorder()
    fan.wait(handler)
    assert ("done", "bad", None, "no such table (check the name)") in handler.events
    assert fan.outcome().ok == ["a", "b"] and fan.outcome().failed == ["bad", "worse"]
    assert fan.results["a"].seconds >= 0.02  # the engine times what the work did not


def test_never_more_than_fanout_targets_at_once():
    lock = threading.Lock()
    now, most = [0], [0]

    def work(job: Job) -> Reply:
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        time.sleep(0.05)
        with lock:
            now[0] -= 1
        return Reply(job.target)

    fan = started([f"t{n}" for n in range(12)], work, fanout=3)
    fan.wait(Recorder())
    assert most[0] == 3 and len(fan.outcome().ok) == 12


@dataclass
class Asker(Recorder):
    """Answers on the main thread: a secret is the prompt upper-cased; confirmations are held
    and answered together, "yes" unless `refuse`."""

    asked: list[list[tuple[str, str]]] = field(default_factory=list)
    refuse: bool = False

    def holds(self, question: Question) -> bool:
        return question.kind == "confirm"

    def ev_question(self, questions: list[Question]) -> None:
        self._note("question", *[q.target for q in questions])
        self.asked.append(sorted((q.target, q.text) for q in questions))
        if self.refuse:
            raise OpshError("refused")
        for question in questions:
            question.answer(question.text.upper() if question.kind == "secret" else True)


def test_questions_from_workers_are_answered_on_the_main_thread():
    def work(job: Job) -> Reply:
        return Reply(job.target, value=job.control.ask("secret", f"password for {job.target}: "))

    fan = started(["db1", "db2"], work)
    handler = Asker()
    fan.wait(handler)
    assert [r.value for r in fan.ordered()] == ["PASSWORD FOR DB1: ", "PASSWORD FOR DB2: "]
    assert sorted(handler.asked) == [[("db1", "password for db1: ")], [("db2", "password for db2: ")]]
    assert handler.threads == {"MainThread"}
    for target in ("db1", "db2"):
        assert handler.of(target) == ["start", "question", "done"]


def test_a_refused_question_is_the_asking_targets_error():
    fan = started(["db1"], lambda job: Reply(job.target, value=job.control.ask("secret", "password: ")))
    fan.wait(Asker(refuse=True))
    assert fan.results["db1"].error == "refused"


def test_held_questions_are_asked_once_after_every_running_target_asked_or_finished():
    everyone = threading.Barrier(3)

    def work(job: Job) -> Reply:
        everyone.wait(5)  # all three are running before any asks
        if job.target == "quiet":
            time.sleep(0.3)  # never asks: the question waits for it to finish
            return Reply(job.target)
        return Reply(job.target, value=job.control.ask("confirm", f"DROP t on {job.target}?"))

    fan = started(["shop1", "quiet", "shop2"], work)
    handler = Asker()
    fan.wait(handler)
    assert handler.asked == [[("shop1", "DROP t on shop1?"), ("shop2", "DROP t on shop2?")]]
    order = [event[:2] for event in handler.events if event[0] in ("question", "done")]
    assert order[0] == ("done", "quiet") and order[1][0] == "question"
    assert [r.value for r in fan.ordered()] == [True, None, True]


def test_a_settled_target_does_not_hold_the_questions_of_the_others():
    everyone = threading.Barrier(3)
    answered = threading.Event()

    class Answering(Asker):
        def ev_question(self, questions: list[Question]) -> None:
            super().ev_question(questions)
            answered.set()

    def work(job: Job) -> Reply:
        everyone.wait(5)
        if job.target == "busy":
            job.settle()  # its command runs now: it will ask nothing
            answered.wait(5)  # and goes on running until the others were asked
            return Reply(job.target)
        return Reply(job.target, value=job.control.ask("confirm", f"go on {job.target}?"))

    fan = FanOut(["a", "busy", "b"], work, failed, 3, hold_quiet=30)
    fan.start(Background())
    handler = Answering()
    fan.wait(handler)
    assert handler.asked == [[("a", "go on a?"), ("b", "go on b?")]]
    order = [event[:2] for event in handler.events if event[0] in ("question", "done")]
    assert order[0][0] == "question" and ("done", "busy") in order[1:]


def test_a_target_that_neither_asks_nor_finishes_holds_the_others_only_briefly():
    """The case of a worker waiting for a connection another target is asking about: it can
    only go on once that question is answered, so the question must not wait for it."""
    connection = threading.Lock()
    connection.acquire()
    asked_at: list[float] = []

    def work(job: Job) -> Reply:
        if job.target == "blocked":  # waits for what `asking` holds until it is answered
            if not connection.acquire(timeout=5):
                return Reply(job.target, error="gave up waiting")
            return Reply(job.target)
        value = job.control.ask("confirm", "trust it?")
        asked_at.append(time.monotonic())
        connection.release()
        return Reply(job.target, value=value)

    fan = FanOut(["asking", "blocked"], work, failed, 2, hold_quiet=0.4)
    started_at = time.monotonic()
    fan.start(Background())
    fan.wait(Asker())
    assert [r.ok for r in fan.ordered()] == [True, True]
    assert 0.4 <= asked_at[0] - started_at < 3


class Stoppable:
    """What a worker registers: interrupt() ends it, unless it is stubborn (then kill() does)."""

    def __init__(self, stubborn: bool = False) -> None:
        self.stubborn = stubborn
        self.interrupted = threading.Event()
        self.killed = threading.Event()

    def interrupt(self) -> None:
        self.interrupted.set()

    def kill(self) -> None:
        self.killed.set()

    def ended(self) -> bool:
        return self.killed.is_set() or (self.interrupted.is_set() and not self.stubborn)


def test_ctrl_c_interrupts_the_running_kills_the_stubborn_and_keeps_what_finished():
    running: dict[str, Stoppable] = {}

    def work(job: Job) -> Reply:
        if job.target == "quick":
            return Reply(job.target, value="done")
        thing = running[job.target] = Stoppable(stubborn=job.target == "stubborn")
        job.running(thing)
        while not thing.ended():
            time.sleep(0.01)
        return Reply(job.target, error="stopped")

    # Three workers: quick's then runs slow2; `never` waits for a worker until after Ctrl-C.
    fan = started(["quick", "slow", "stubborn", "slow2", "never"], work, fanout=3)
    handler = Recorder()
    timer = threading.Timer(0.4, os.kill, (os.getpid(), signal.SIGINT))
    begun = time.monotonic()
    timer.start()
    fan.wait(handler)
    timer.join()
    assert time.monotonic() - begun < 3
    assert fan.interrupted
    assert [(r.target, r.error) for r in fan.ordered()] == [
        ("quick", None),
        ("slow", "cancelled"),
        ("stubborn", "cancelled"),
        ("slow2", "cancelled"),
        ("never", "cancelled"),
    ]
    assert running["slow"].interrupted.is_set() and running["stubborn"].killed.is_set()
    assert handler.of("quick") == ["start", "done"]
    assert handler.of("slow") == ["start", "cancelled"]
    assert handler.of("never") == ["cancelled"]  # it never started
    assert fan.outcome().ok == ["quick"]


def test_a_consumer_that_goes_away_stops_the_work():
    thing = Stoppable()

    def work(job: Job) -> Reply:
        job.running(thing)
        job.emit("out", "line\n")
        while not thing.ended():
            time.sleep(0.01)
        return Reply(job.target)

    fan = started(["web1"], work)
    events = fan.follow(Recorder())
    next(events)  # start
    next(events)  # the line, shown; then the pager quits
    events.close()
    assert thing.interrupted.is_set() and fan.stopped and not fan.interrupted


def test_a_slow_consumer_holds_the_work_back():
    emitted: list[int] = []

    def work(job: Job) -> Reply:
        for n in range(3):
            job.emit("out", "x" * (BUFFER * 3 // 5))
            emitted.append(n)
        return Reply(job.target)

    fan = started(["chatty"], work)
    events = fan.follow(Recorder())
    next(events)  # its start; nothing of its output shown yet
    deadline = time.monotonic() + 5
    while len(emitted) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert emitted == [0, 1]  # more than BUFFER unshown: the third waits
    for _ in events:
        pass
    assert emitted == [0, 1, 2] and fan.results["chatty"].ok


def test_a_delegate_reports_its_targets_through_the_same_control():
    class Delegated:
        def __init__(self, fan_targets: list[str]) -> None:
            self.targets = fan_targets
            self.fan: FanOut[Reply] | None = None

        def run(self) -> None:
            assert self.fan is not None
            control = self.fan.control
            for target in self.targets:
                control.post(Start(target))
                Job(target, control).emit("out", "via the gateway\n")
                control.post(Done(target, Reply(target, value="tree")))

    delegate = Delegated(["leaf1", "leaf2"])
    worked: list[str] = []

    def work(job: Job) -> Reply:
        worked.append(job.target)
        return Reply(job.target, value="direct")

    fan = FanOut(["gw", "leaf1", "leaf2"], work, failed, 4, delegate=delegate)
    delegate.fan = fan
    fan.start(Background())
    handler = Recorder()
    fan.wait(handler)
    assert worked == ["gw"]
    assert [r.value for r in fan.ordered()] == ["direct", "tree", "tree"]
    assert handler.of("leaf2") == ["start", "output", "done"]


def test_when_the_session_is_ending_nothing_starts_and_everything_is_cancelled():
    background = Background()
    background.stop()
    fan = FanOut(["a", "b"], lambda job: Reply(job.target), failed, 2)
    fan.start(background)
    handler = Recorder()
    fan.wait(handler)
    assert [r.error for r in fan.ordered()] == ["cancelled", "cancelled"]
    assert handler.of("a") == ["cancelled"]


@pytest.mark.parametrize("kind", ["secret", "confirm"])
def test_ctrl_c_while_a_worker_waits_for_an_answer_cancels_it(kind: str):
    class Silent(Recorder):
        def holds(self, question: Question) -> bool:
            return True  # held forever: `other` never asks and never ends

    def work(job: Job) -> Reply:
        if job.target == "other":
            while not job.cancelled():
                time.sleep(0.01)
            return Reply(job.target, error="stopped")
        return Reply(job.target, value=job.control.ask(kind, "go?"))

    fan = started(["asking", "other"], work)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    fan.wait(Silent())
    timer.join()
    assert [r.error for r in fan.ordered()] == ["cancelled", "cancelled"]
