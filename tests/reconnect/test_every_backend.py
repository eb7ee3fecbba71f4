"""The one reconnect path, every backend alike: kill the server under an open handle, restart it,
and the first command after the restart works, whether or not a command ran while it was down.
(Each backend's own tests check the one-line message and what is forgotten.)"""

from __future__ import annotations

import pytest

from tests.helpers import Shell
from tests.kestrel_emulator import own_kestrel  # noqa: F401 - the fixture


@pytest.mark.parametrize("tried_while_down", [False, True])
def test_the_first_command_after_a_restart_works_on_every_backend(
    tmp_path,
    own_redis,
    own_mongo,
    own_memcached,
    own_tarantool,
    own_kestrel,  # noqa: F811
    own_postgres,
    tried_while_down,
):
    backends = {
        "postgres": (f"connect {own_postgres.url_for(own_postgres.database)} as pg", "SELECT 1;", own_postgres),
        "redis": (f"connect {own_redis.url} as r", "PING", own_redis),
        "mongo": (f"connect mongodb://{own_mongo.host}:{own_mongo.port}/t as m", "db.c.countDocuments({})", own_mongo),
        "memcache": (f"connect {own_memcached.url} as c", "version", own_memcached),
        "tarantool": (f"connect {own_tarantool.url} as t", "tubes", own_tarantool),
        "redisq": (f"connect redisq://{own_redis.host}:{own_redis.port}/0 as q", "tubes", own_redis),
        "kestrel": (f"connect {own_kestrel.url} as k", "stats", own_kestrel),
    }
    for name, (connect, probe, server) in backends.items():
        shell = Shell(tmp_path / name, answers=[own_tarantool.password] if name == "tarantool" else [])
        try:
            assert shell(connect).ok and shell(probe).ok, name
            server.kill()
            if tried_while_down:
                out = shell(probe)
                assert not out.ok and out.err.count("\n") == 1 and "at 127.0.0.1:" in out.err, (name, out.err)
            server.restart()
            out = shell(probe)
            assert out.ok, (name, out.err)
        finally:
            shell.close()
