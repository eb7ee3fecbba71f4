"""Queues in a real terminal: Ctrl-C during a blocking take returns to the prompt, and the
handle goes on working (same connection, nothing lost), on every backend."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.e2e.term import Term
from tests.kestrel_emulator import KestrelEmulator

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kestrel() -> Iterator[KestrelEmulator]:
    with KestrelEmulator() as emulator:
        yield emulator


@pytest.fixture(params=["tarantool", "redisq", "kestrel"])
def target(request: pytest.FixtureRequest) -> tuple[str, str | None, str]:
    """(url, password, tube) of each backend."""
    if request.param == "tarantool":
        server = request.getfixturevalue("tarantool_server")
        server.create_tube("e2e")
        return server.url, server.password, "e2e"
    if request.param == "redisq":
        server = request.getfixturevalue("redis_server")
        return f"redisq://127.0.0.1:{server.port}/0", None, "e2e" + str(time.monotonic_ns())
    return request.getfixturevalue("kestrel").url, None, "e2e" + str(time.monotonic_ns())


def connect(term: Term, url: str, password: str | None) -> None:
    term.send(f"connect {url} as q\r")
    if password:
        term.expect("password for ")
        term.send(password + "\r")
    term.expect_prompt()


def test_ctrl_c_stops_a_blocking_take_and_the_handle_still_works(term, target):
    url, password, tube = target
    connect(term, url, password)
    term.send(f"take {tube} 60\r")
    term.pause(1.2)
    interrupted = time.monotonic()
    term.ctrl("c")
    term.expect("cancelled", timeout=5)
    term.expect_prompt(timeout=5)
    assert time.monotonic() - interrupted < 3
    out = term.run(f"put {tube} after-interrupt")
    assert "after-interrupt" in out and "error" not in out
    out = term.run(f"take {tube} 5")
    assert "after-interrupt" in out and "taken" in out
    task_id = out.split("after-interrupt")[0].split("|")[-3].strip()
    out = term.run(f"ack {task_id}")
    assert "done" in out
    assert "error" not in term.run("stats")
    term.ctrl("d")
    assert term.exit_status() == 0


def test_the_prompt_names_the_backend_and_q_leaves(term, target, request):
    url, password, _ = target
    kind = request.node.callspec.params["target"]
    connect(term, url, password)
    term.expect(f"{kind}:q")  # the prompt is drawn after the prompt marker
    out = term.run("help")
    assert "take TUBE [TIMEOUT]" in out
    term.send("\\q\r")
    term.expect_prompt()
    term.expect("opsh:")
