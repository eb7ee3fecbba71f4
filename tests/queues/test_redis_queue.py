"""The Redis-backed reliable queue: its keys, and what survives a worker that goes away."""

from __future__ import annotations

import json
import time

import pytest

from tests.helpers import Shell


@pytest.fixture
def rq(redisq_setup, open_queue):
    return open_queue(redisq_setup, name="rq"), redisq_setup.new_tube()


def test_jobs_are_json_with_an_id_in_plain_lists(rq, redis_server):
    sh, tube = rq
    sh.ok(f"put {tube} {{n: 1}}")
    r = redis_server.client()
    job = json.loads(r.lindex(f"q:{tube}", 0))
    assert (job["id"], job["data"]) == (1, {"n": 1})
    task = sh.json(f"take {tube}")[0]
    assert r.llen(f"q:{tube}") == 0 and r.llen(f"q:{tube}:processing") == 1
    sh.ok(f"ack {task['id']}")
    assert r.llen(f"q:{tube}:processing") == 0


def test_a_job_taken_by_a_lost_worker_waits_in_processing(rq, redisq_setup, open_queue):
    sh, tube = rq
    sh.ok(f"put {tube} important")
    task = sh.json(f"take {tube}")[0]
    assert sh("\\close rq").ok
    other = open_queue(redisq_setup, name="other")
    rows = {r["tube"]: r for r in other.json("stats")}
    assert (rows[tube]["ready"], rows[tube]["taken"]) == (0, 1)
    assert other.json(f"peek {tube}:{task['id']}")[0]["status"] == "taken"
    assert other.json(f"release {tube}:{task['id']}")[0]["status"] == "ready"
    assert other.json(f"take {tube}")[0]["data"] == "important"


def test_delay_uses_a_sorted_set_until_due(rq, redis_server):
    sh, tube = rq
    assert sh.json(f"put {tube} later --delay 0.5")[0]["status"] == "delayed"
    assert redis_server.client().zcard(f"q:{tube}:delayed") == 1
    assert sh.json(f"take {tube}") == []
    assert sh.json(f"take {tube} 3")[0]["data"] == "later"


def test_release_with_delay(rq):
    sh, tube = rq
    sh.ok(f"put {tube} retry")
    task = sh.json(f"take {tube}")[0]
    assert sh.json(f"release {task['id']} --delay 0.4")[0]["status"] == "delayed"
    assert sh.json(f"take {tube}") == []
    time.sleep(0.5)
    assert sh.json(f"take {tube}")[0]["data"] == "retry"


def test_ttl_drops_a_job_nobody_took(rq):
    sh, tube = rq
    sh.ok(f"put {tube} brief --ttl 0.2")
    sh.ok(f"put {tube} lasting")
    time.sleep(0.4)
    assert sh.json(f"take {tube}")[0]["data"] == "lasting"


def test_bury_kick_and_delete(rq, redis_server):
    sh, tube = rq
    for word in ("a", "b"):
        sh.ok(f"put {tube} {word}")
    task = sh.json(f"take {tube}")[0]
    assert sh.json(f"bury {task['id']}")[0]["status"] == "buried"
    assert redis_server.client().llen(f"q:{tube}:buried") == 1
    kicked = {r["field"]: r["value"] for r in sh.json(f"kick {tube} 3")}
    assert kicked["kicked"] == 1
    assert sh.json(f"delete {tube}:2")[0]["status"] == "done"
    assert sh.json(f"take {tube}")[0]["data"] == "a"
    assert sh.json(f"take {tube}") == []


def test_ack_of_a_job_that_is_not_taken(rq):
    sh, tube = rq
    sh.ok(f"put {tube} a")
    out = sh(f"ack {tube}:1")
    assert not out.ok and out.err == "error: ack: task 1 is ready, not taken\n"


def test_priorities_are_refused_plainly(rq):
    sh, tube = rq
    out = sh(f"put {tube} x --pri 1")
    assert not out.ok and out.err == "error: redisq queues are plain lists: no --pri (use one tube per priority)\n"


def test_stats_of_one_tube(rq):
    sh, tube = rq
    sh.ok(f"put {tube} a")
    figures = {r["field"]: r["value"] for r in sh.json(f"stats {tube}")}
    assert (figures["ready"], figures["taken"], figures["total"], figures["last_id"]) == (1, 0, 1, 1)
    assert figures["oldest_ready_age_s"] >= 0


def test_tarantool_only_verbs_say_so(rq):
    sh, _ = rq
    out = sh("eval return 1")
    assert not out.ok
    assert (
        out.err == "error: redisq queues have no eval (tarantool only) (type `help` for what this backend supports)\n"
    )


class TestPassword:
    def test_asked_only_when_the_server_wants_one(self, redis_auth_server, tmp_path):
        sh = Shell(tmp_path, answers=[redis_auth_server.password])
        out = sh(f"connect redisq://127.0.0.1:{redis_auth_server.port}/0")
        assert out.ok, out.err
        assert sh.io.asked == [f"password for redisq://127.0.0.1:{redis_auth_server.port}: "]
        assert sh("put jobs x").ok
        sh.close()

    def test_wrong_password(self, redis_auth_server, tmp_path):
        out = Shell(tmp_path, answers=["nope"])(f"connect redisq://127.0.0.1:{redis_auth_server.port}/0")
        assert not out.ok
        assert out.err == f"error: redis refused the password for 127.0.0.1:{redis_auth_server.port}\n"

    def test_no_server(self, tmp_path):
        from tests.servers.base import free_port

        out = Shell(tmp_path)(f"connect redisq://127.0.0.1:{free_port()}/0")
        assert not out.ok and out.err.startswith("error: cannot reach redis at 127.0.0.1:")
