"""`sql|redis|mongo --on TARGETS`: one question to many databases, against real servers.

Ctrl-C is a real SIGINT sent to this process while the statements run (as in
tests/sql/test_connection.py): KeyboardInterrupt arrives on the main thread, as at a terminal.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import signal
import subprocess
import threading
import time

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from opsh.shell.completion import ShellCompleter
from tests.helpers import clean_env, opsh_binary
from tests.many.conftest import caches_config, replicas_config, shards_config

COUNT = "SELECT count(*) AS n FROM orders WHERE state = 'new'"


def tab(shell, text: str) -> list[str]:
    completions = ShellCompleter(shell.session).get_completions(Document(text, len(text)), CompleteEvent())
    return [c.text for c in completions]


# ---------------------------------------------------------------- SQL: four shards


def test_one_count_on_four_shards_is_one_table_with_a_target_column(fleet_shell, mariadb, shard_dbs):
    sh = fleet_shell(shards_config(mariadb, shard_dbs))
    rows = sh.json(f'sql --on shop[1-4] "{COUNT}"')
    assert rows == [{"target": f"shop{n}", "n": n} for n in range(1, 5)]
    out = sh.ok(f'sql --on @shards "{COUNT}"')
    assert out.lines[1].split() == ["|", "target", "|", "n", "|"]
    assert [line.split()[1] for line in out.lines[3:7]] == ["shop1", "shop2", "shop3", "shop4"]
    assert sh.session.last.status.startswith("4 targets in ")
    assert sh.session.last.status.endswith(": 4 ok")


def test_exclusion_and_comma_lists_pick_the_targets(fleet_shell, mariadb, shard_dbs):
    sh = fleet_shell(shards_config(mariadb, shard_dbs))
    assert [r["target"] for r in sh.json(f'sql --on @shards -x shop2 "{COUNT}"')] == ["shop1", "shop3", "shop4"]
    assert [r["target"] for r in sh.json(f'sql --on "@shards,!shop[3-4]" "{COUNT}"')] == ["shop1", "shop2"]
    sh.fails('sql --on shop9 "SELECT 1"', "no handle named 'shop9'")
    sh.fails('sql --on shop1,shop9 "SELECT 1"', "unknown sql target 'shop9'")
    sh.fails('sql --on @web "SELECT 1"', "unknown sql target 'web01'")


def test_csv_has_the_target_column(fleet_shell, mariadb, shard_dbs):
    sh = fleet_shell(shards_config(mariadb, shard_dbs))
    out = sh.ok(f'sql --on @shards --format csv "{COUNT}"')
    assert list(csv.reader(io.StringIO(out.text))) == [["target", "n"], *[[f"shop{n}", str(n)] for n in range(1, 5)]]


def test_group_merges_identical_answers(fleet_shell, mariadb, shard_dbs):
    sh = fleet_shell(shards_config(mariadb, shard_dbs))
    mariadb.root_sql(f"INSERT INTO {shard_dbs[0]}.orders VALUES (9, 'new')")  # shop1 now has 2, as shop2
    out = sh.ok(f'sql --on @shards --group "{COUNT}"')
    headings = [line for line in out.lines if line.startswith("shop")]
    assert headings == ["shop[1-2] (2)", "shop3", "shop4"]
    groups = sh.json(f'sql --on @shards --group "{COUNT}"')
    assert [(g["targets"], g["count"], g["rows"]) for g in groups] == [
        ("shop[1-2]", 2, [{"n": 2}]),
        ("shop3", 1, [{"n": 3}]),
        ("shop4", 1, [{"n": 4}]),
    ]


def test_different_columns_get_a_heading_per_target(fleet_shell, mariadb, shard_dbs):
    sh = fleet_shell(shards_config(mariadb, shard_dbs))
    mariadb.root_sql(f"ALTER TABLE {shard_dbs[2]}.orders ADD COLUMN note TEXT")
    out = sh.ok('sql --on shop2,shop3 "SELECT * FROM orders LIMIT 1"')
    assert "shop2" in out.lines[0] and "target" not in out.text
    assert any(line.strip() == "shop3" for line in out.lines)
    assert "note" in out.text
    objects = sh.json('sql --on shop2,shop3 "SELECT * FROM orders LIMIT 1"')
    assert objects == [
        {"target": "shop2", "rows": [{"id": 0, "state": "new"}]},
        {"target": "shop3", "rows": [{"id": 0, "state": "new", "note": None}]},
    ]


def test_a_drop_on_the_shards_asks_once_naming_every_target(fleet_shell, mariadb, shard_dbs):
    sh = fleet_shell(shards_config(mariadb, shard_dbs), answers=["n"])
    out = sh('sql --on @shards "DROP TABLE orders"')
    assert not out.ok
    assert sh.io.asked == ["Run `DROP TABLE orders` on shop1, shop2, shop3, shop4 (cannot be undone)?"]
    for db in shard_dbs:  # nothing was dropped anywhere
        assert mariadb.root_sql(f"SELECT count(*) FROM {db}.orders").strip()
    sh = fleet_shell(shards_config(mariadb, shard_dbs), answers=["y"])
    sh.ok('sql --on shop[1-2] "DROP TABLE orders"')
    assert len(sh.io.asked) == 1
    tables = mariadb.root_sql(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'orders' "
        f"AND table_schema IN ({','.join(repr(d) for d in shard_dbs)}) ORDER BY table_schema"
    ).split()
    assert sorted(tables) == sorted(shard_dbs[2:])


def test_a_script_needs_yes_for_a_drop_on_many(fleet_shell, mariadb, shard_dbs):
    sh = fleet_shell(shards_config(mariadb, shard_dbs))
    out = sh.fails('sql --on @shards "DROP TABLE orders"', "")
    assert out.exit_code == 1
    assert "not confirmed" in out.text
    sh.ok('sql --on @shards --yes "DROP TABLE orders"')


def test_a_readonly_target_refuses_and_the_others_run(fleet_shell, mariadb, shard_dbs):
    sh = fleet_shell(shards_config(mariadb, shard_dbs, readonly="shop3"))
    out = sh('sql --on @shards "INSERT INTO orders VALUES (7, \'new\')"')
    assert not out.ok and out.exit_code == 1
    assert "shop3 is readonly: INSERT statements refused" in out.text
    counts = [int(mariadb.root_sql(f"SELECT count(*) FROM {db}.orders")) for db in shard_dbs]
    assert counts == [2, 3, 3, 5]
    assert sh.json('sql --on @failed "SELECT 1 AS one"') == [{"target": "shop3", "one": 1}]
    assert [r["target"] for r in sh.json('sql --on @ok "SELECT 1 AS one"')] == ["shop3"]


def test_open_handles_are_targets_too(fleet_shell, mariadb, shard_dbs):
    from tests.sql.conftest import mysql_url

    sh = fleet_shell(shards_config(mariadb, shard_dbs[:2]))
    sh.ok(f"connect {mysql_url(mariadb, shard_dbs[3])} as extra --background")
    assert [r["target"] for r in sh.json(f'sql --on shop1,extra "{COUNT}"')] == ["shop1", "extra"]
    assert sh.json(f'sql --on extra "{COUNT}"') == [{"n": 4}]  # one open handle: the one-handle command
    assert sorted(sh.session.handles) == ["extra"]  # shop1's fan-out connection was closed


def test_passwords_are_asked_per_target_hidden_and_never_shown(fleet_shell, mariadb, shard_dbs):
    config = shards_config(mariadb, shard_dbs[:2]).replace('password_env = "SHOP_DB_PASSWORD"', "")
    sh = fleet_shell(config, answers=[mariadb.password, mariadb.password])
    out = sh.ok(f'sql --on shop1,shop2 "{COUNT}"')
    assert sorted(sh.io.asked) == [f"password for mysql://opsh@127.0.0.1:{mariadb.port}: "] * 2
    assert mariadb.password not in out.text + out.err
    history = sh.session.config.paths.history_file
    assert not history.exists() or mariadb.password not in history.read_text()


def test_ctrl_c_kills_every_running_query_and_keeps_the_shell(fleet_shell, mariadb, shard_dbs):
    sh = fleet_shell(shards_config(mariadb, shard_dbs))
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    out = sh("sql --on @shards \"SELECT SLEEP(30) AS slept\"")
    took = time.monotonic() - started
    timer.join()
    assert took < 8, f"took {took:.1f}s"
    assert not out.ok and out.exit_code == 130  # an interrupt, as an SQL statement's (exit 130 in a batch)
    assert sh.session.last.status.startswith("interrupted: 4 targets")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = mariadb.root_sql(
            "SELECT count(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(30)%'"
        )
        if int(left) == 0:
            break
        time.sleep(0.1)
    assert int(left) == 0
    assert sh.ok("echo still here").text == "still here\n"


def test_batch_exit_status_is_1_when_a_target_fails(fleet_shell, mariadb, shard_dbs):
    gone = '\n[connections.gone]\nurl = "mysql://opsh@127.0.0.1:1/x"\npassword_env = "SHOP_DB_PASSWORD"'
    sh = fleet_shell(shards_config(mariadb, shard_dbs) + gone)
    out = batch(sh, f'sql --on shop1,gone "{COUNT}"; echo after')
    assert out.returncode == 1 and "after" not in out.stdout
    assert "gone" in out.stdout and "shop1" in out.stdout
    assert batch(sh, f'sql --on @shards "{COUNT}"; echo after').stdout.endswith("after\n")


def batch(shell, line: str) -> subprocess.CompletedProcess[str]:
    """`opsh -c LINE` with the shell's home (its config), as a script would run it."""
    home = shell.session.config.paths.config_file.parent
    env = clean_env(home)
    return subprocess.run([opsh_binary(), "-c", line], capture_output=True, text=True, env=env, timeout=60)


def test_tab_after_on_offers_connections_and_groups(fleet_shell, mariadb, shard_dbs, caches):
    sh = fleet_shell(shards_config(mariadb, shard_dbs) + "\n" + caches_config(caches))
    offered = tab(sh, "sql --on ")
    assert {"shop1", "shop4", "@shards", "@failed"} <= set(offered)
    assert "cache1" not in offered
    assert "cache2" in tab(sh, "redis --on cache")
    assert tab(sh, "sql --on shop1,shop") == ["shop1,shop1", "shop1,shop2", "shop1,shop3", "shop1,shop4"]


def test_help_shows_the_fan_out_examples(sh):
    text = sh.ok("help sql").text
    assert "sql --on shop[1-4]" in text and "--group" in text and "-x, --exclude" in text
    assert "redis --on cache[1-3] INFO keyspace" in sh.ok("help redis").text
    assert "mongo --on replica[1-3]" in sh.ok("help mongo").text


# ---------------------------------------------------------------- Redis: three caches, one down


def test_redis_on_three_caches_with_one_down(fleet_shell, caches):
    for n, server in enumerate(caches, 1):
        client = server.client()
        for i in range(n):
            client.set(f"k{i}", "v")
    sh = fleet_shell(caches_config(caches))
    rows = sh.json("redis --on cache[1-3] DBSIZE")
    assert rows == [{"target": f"cache{n}", "value": n} for n in (1, 2, 3)]
    caches[1].kill()
    out = sh("redis --on @caches INFO keyspace")
    assert not out.ok and out.exit_code == 1
    assert "cache1" in out.text and "keys=1" in out.text and "keys=3" in out.text
    assert "Connection refused" in out.text
    assert sh.session.last.status.endswith("2 ok, 1 failed (cache2)")
    out = sh("redis --on @failed PING")
    assert not out.ok and "cache2" in out.text and "cache1" not in out.text
    assert not sh("redis --on @caches PING").ok
    assert [r["target"] for r in sh.json("redis --on @ok PING")] == ["cache1", "cache3"]
    script = batch(sh, "redis --on @caches PING; echo after")
    assert script.returncode == 1 and "after" not in script.stdout
    assert "cache2" in script.stdout


def test_redis_flushall_on_many_asks_once(fleet_shell, caches):
    for server in caches:
        server.client().set("keep", "1")
    sh = fleet_shell(caches_config(caches), answers=["n"])
    assert not sh("redis --on @caches FLUSHALL").ok
    asked = sh.io.asked
    assert len(asked) == 1
    assert all(f"cache{n}" in asked[0] for n in (1, 2, 3)) and "FLUSHALL" in asked[0]
    assert all(server.client().get("keep") == "1" for server in caches)


def test_redis_readonly_target_refuses(fleet_shell, caches):
    sh = fleet_shell(caches_config(caches).replace('[connections.cache2]', '[connections.cache2]\nreadonly = true'))
    out = sh("redis --on @caches SET fanned 1")
    assert not out.ok and "SET writes, and cache2 is read-only" in out.text
    assert [server.client().get("fanned") for server in caches] == ["1", None, "1"]


def test_redis_ctrl_c_returns_what_finished(fleet_shell, caches):
    sh = fleet_shell(caches_config(caches))
    timer = threading.Timer(0.8, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    out = sh("redis --on @caches BLPOP nothing-comes 30")
    timer.join()
    assert time.monotonic() - started < 8
    assert not out.ok and out.exit_code == 130
    assert sh.session.last.status.startswith("interrupted: 3 targets")
    assert sh.ok("echo alive").text == "alive\n"


# ---------------------------------------------------------------- Mongo: two replicas


def test_mongo_count_on_two_replicas(fleet_shell, mongo_server):
    dbs = [f"fan_{secrets.token_hex(3)}_{n}" for n in (1, 2)]
    client = mongo_server.client()
    for n, db in enumerate(dbs, 1):
        client[db].users.insert_many([{"name": f"u{i}", "active": True} for i in range(n)])
    sh = fleet_shell(replicas_config(mongo_server, dbs))
    rows = sh.json('mongo --on replica[1-2] "db.users.countDocuments({active: true})"')
    assert rows == [{"target": "replica1", "value": 1}, {"target": "replica2", "value": 2}]
    names = sh.json('mongo --on @replicas "db.users.find({}, {_id: 0, name: 1}).sort({name: 1})"')
    assert names == [
        {"target": "replica1", "name": "u0"},
        {"target": "replica2", "name": "u0"},
        {"target": "replica2", "name": "u1"},
    ]
    asking = fleet_shell(replicas_config(mongo_server, dbs), answers=["y"])
    asking.ok('mongo --on @replicas "db.users.drop()"')
    assert len(asking.io.asked) == 1
    assert all("users" not in client[db].list_collection_names() for db in dbs)
    for db in dbs:
        client.drop_database(db)
