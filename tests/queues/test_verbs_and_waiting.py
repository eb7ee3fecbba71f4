"""Reading queue lines against the verbs' specs, and waits that Ctrl-C can stop cleanly."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from opsh.commands.queues.syntax import parse_data, parse_line
from opsh.commands.queues.waiting import wait_for
from opsh.shell.errors import UsageError


def test_put_keeps_the_data_as_typed_and_takes_options_anywhere():
    line = parse_line('put --delay 5s emails {to: "a@b", n: [1, 2]} --ttl 1m --pri 2')
    assert line.verb.name == "put"
    assert line.args.tube == "emails"
    assert line.args.data == '{to: "a@b", n: [1, 2]}'
    assert (line.args.delay, line.args.ttl, line.args.pri) == (5.0, 60.0, 2)


def test_generic_options_on_queue_lines():
    line = parse_line("take emails 2s --format json")
    assert (line.args.tube, line.args.timeout, line.fmt) == ("emails", 2.0, "json")
    with pytest.raises(UsageError, match="is not one of"):
        parse_line("stats --format xml")


def test_free_text_keeps_lua_comments_and_dashes():
    assert parse_line("eval return 1 -- a comment").args.lua == "return 1 -- a comment"


def test_a_hash_in_free_text_is_text_not_a_comment():
    assert parse_line("eval return #box.space._space:select()").args.lua == "return #box.space._space:select()"
    assert parse_line("eval #t").args.lua == "#t"
    assert parse_line("put jobs fix issue #42 now").args.data == "fix issue #42 now"
    assert parse_line("take jobs # waits for nothing").args.timeout == 0.0


def test_defaults_and_aliases():
    line = parse_line("take jobs")
    assert line.args.timeout == 0.0
    assert parse_line("finish 7").verb.name == "ack"
    assert parse_line("abort 7").verb.name == "release"
    assert parse_line("kick jobs").args.count == 1
    assert parse_line("   ") is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("put", "put: missing TUBE"),
        ("put jobs", "put: missing DATA"),
        ("take", "take: missing TUBE"),
        ("take jobs soon", "bad duration: 'soon'"),
        ("kick jobs many", "count: expected an integer, got 'many'"),
        ("ack 1 2", "ack: unexpected argument '2'"),
        ("take jobs --wait 1", "take: unknown option --wait"),
        ("put jobs x --delay", "--delay needs a value"),
        ("frob", "unknown queue verb: frob"),
    ],
)
def test_mistakes_are_usage_errors(line, message):
    with pytest.raises(UsageError) as caught:
        parse_line(line)
    assert message.lower() in (caught.value.message + " " + (caught.value.hint or "")).lower()


def test_data_is_json_when_it_parses_and_text_otherwise():
    assert parse_data("{a: 1}") == {"a": 1}
    assert parse_data("42") == 42
    assert parse_data("hello world") == "hello world"
    assert parse_data(parse_line("put t '42'").args.data) == "42"
    with pytest.raises(UsageError, match="syntax error"):
        parse_data("{a: 1")


def _interrupt_in(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_ends_a_wait_between_slices():
    calls: list[float] = []

    def poll(wait: float) -> None:
        calls.append(wait)
        time.sleep(wait)

    timer = _interrupt_in(0.3)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        wait_for(poll, 30, slice_seconds=0.2)
    timer.join()
    assert time.monotonic() - started < 1.5
    assert all(w <= 0.2 for w in calls)


def test_a_slice_that_got_a_task_keeps_it_even_if_ctrl_c_came_during_it():
    def poll(wait: float) -> str:
        time.sleep(0.3)  # the interrupt arrives while the server is answering
        return "task"

    timer = _interrupt_in(0.1)
    assert wait_for(poll, 5) == "task"
    timer.join()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_zero_timeout_polls_once_without_waiting():
    seen: list[float] = []
    assert wait_for(lambda wait: seen.append(wait), 0) is None
    assert seen == [0.0]
