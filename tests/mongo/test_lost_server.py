"""A MongoDB server that dies under an open handle: a short wait, one clear line, and the next
command after the restart works."""

from __future__ import annotations

import time


def test_a_killed_server_is_one_clear_line_within_seconds(connected_shells, own_mongo):
    shell = connected_shells(f"mongodb://{own_mongo.host}:{own_mongo.port}/t", "m")
    shell.ok("db.c.insertOne({_id: 1})")
    own_mongo.kill()
    started = time.monotonic()
    out = shell.fails("db.c.findOne()", f"cannot reach mongodb at {own_mongo.host}:{own_mongo.port} (is it running?)")
    assert time.monotonic() - started < 8
    assert out.err.count("\n") == 1 and len(out.err) < 120
    own_mongo.restart()
    assert shell.ok("db.c.insertOne({_id: 2})").ok  # the first command after the restart works
    assert shell.json("db.c.countDocuments({})") == 1  # in memory: only what came after


def test_a_cursor_left_for_it_is_forgotten_with_a_message(connected_shells, own_mongo):
    shell = connected_shells(f"mongodb://{own_mongo.host}:{own_mongo.port}/t", "m", answers=[])
    shell.ok("db.c.insertMany([" + ", ".join(f"{{n: {i}}}" for i in range(30)) + "])")
    shell.ok("db.c.find().batchSize(5)")  # interactive: 20 shown, the cursor kept for `it`
    own_mongo.kill()
    shell.fails("it", "the cursor of the last query is gone")
    own_mongo.restart()
    shell.fails("it", "no cursor to iterate")
