"""Raw output (piped, redirected, `set raw on`) is what `redis-cli --raw` writes, byte for byte.

The same command lines go through redis-cli (reading them from stdin) and through opsh's
Redis mode with its output not a terminal; the bytes must be equal, over RESP2 and RESP3:
binary values, nil, empty collections (empty lines keep line positions stable), nested
arrays, RESP3 booleans, doubles and maps, error replies inside an EXEC.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import Shell, clean_env, opsh_binary

LINES = [
    "GET bin",
    "GET missing",
    "MGET bin missing text",
    "LRANGE nolist 0 -1",
    "SMEMBERS noset",
    "HGETALL nohash",
    "LRANGE list 0 -1",
    "HGETALL hash",
    "ZRANGE z 0 -1 WITHSCORES",
    "ZSCORE z m",
    "INCRBYFLOAT f 0.25",
    "COMMAND INFO get",
    'EVAL "return {1,{},{2,{}}}" 0',
    'EVAL "redis.setresp(3); return true" 0',
    'EVAL "redis.setresp(3); return false" 0',
    'EVAL "redis.setresp(3); return {double=1.5}" 0',
    'EVAL "redis.setresp(3); return {map={a=1}}" 0',
    "CONFIG GET maxmemory-p*",
    "XRANGE events - +",
    "MULTI",
    "SET text again",
    "LPUSH text x",
    "EXEC",
    "TYPE text",
]


def _seed(client) -> None:  # noqa: ANN001 - redis.Redis
    client.set("bin", b"a\x00b\xff\xfe c\x80\r\n end")
    client.set("text", "caf\u00e9")
    client.rpush("list", "one", "", b"\xff", "two words")
    client.hset("hash", mapping={"f1": "v1", "empty": "", "nl": "a\nb"})
    client.zadd("z", {"m": 1.5})
    client.set("f", "1.5")
    client.xadd("events", {"user": "ann", "blob": b"\x01\x02"}, id="1-0")


def _redis_cli(server, lines: list[str], protocol: int) -> bytes:  # noqa: ANN001
    argv = ["redis-cli", "-h", server.host, "-p", str(server.port), "--raw", f"-{protocol}"]
    done = subprocess.run(argv, input="\n".join(lines).encode() + b"\n", capture_output=True, check=True)
    return done.stdout


def _opsh(tmp_path: Path, server, lines: list[str], protocol: int) -> bytes:  # noqa: ANN001
    shell = Shell(tmp_path / f"opsh{protocol}")
    try:
        assert shell.ok(f"connect {server.url}?protocol={protocol} as r").ok
        out = b""
        for line in lines:
            outcome = shell(line)
            assert outcome.ok, outcome.err
            out += outcome.text.encode("utf-8", "surrogateescape")
        return out
    finally:
        shell.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_raw_output_is_redis_cli_raw_byte_for_byte(tmp_path, redis_server, client, protocol):
    _seed(client)
    expected = _redis_cli(redis_server, LINES, protocol)
    client.flushall()
    _seed(client)
    got = _opsh(tmp_path, redis_server, LINES, protocol)
    assert got == expected


# Text replies redis-cli writes as they come, their own line ends kept, nothing added.
TEXT_LINES = ["INFO keyspace", "MEMORY DOCTOR", "LATENCY DOCTOR", "GET text"]


@pytest.mark.parametrize("protocol", [2, 3])
def test_text_replies_keep_their_own_line_ends(tmp_path, redis_server, client, protocol):
    """The repro: piped `INFO keyspace` ended `\\r\\n\\n`; redis-cli --raw ends it `\\r\\n`."""
    _seed(client)
    expected = _redis_cli(redis_server, TEXT_LINES, protocol)
    assert b"\r\n" in expected  # INFO's own line ends
    got = _opsh(tmp_path, redis_server, TEXT_LINES, protocol)
    assert got == expected
    info = _opsh(tmp_path / "info", redis_server, ["CLIENT INFO"], protocol)  # its fields differ per client
    assert info.endswith(f"resp={protocol}\n".encode()) and info.count(b"\n") == 1


# Text replies whose content changes from one call to the next: their endings are compared.
CHANGING_TEXT = ["LOLWUT", "MEMORY MALLOC-STATS"]


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("line", CHANGING_TEXT)
def test_changing_text_replies_end_as_redis_cli_ends_them(tmp_path, redis_server, line, protocol):
    expected = _redis_cli(redis_server, [line], protocol)
    got = _opsh(tmp_path, redis_server, [line], protocol)
    assert got[-40:].count(b"\n") == expected[-40:].count(b"\n") and got.endswith(b"\n") and not got.endswith(b"\n\n")


def test_empty_collections_keep_their_line(rsh, client):
    rsh.ok("\\set raw on")
    client.rpush("l", "a")
    assert rsh("LRANGE nolist 0 -1; LRANGE l 0 -1; HGETALL nohash").text == "\na\n\n"


def test_a_mebibyte_of_random_bytes_round_trips_through_a_file(rsh, client, tmp_path):
    blob = os.urandom(1 << 20)
    client.set("blob", blob)
    rsh.ok("\\set raw auto")  # the default: raw whenever the output is not a terminal
    assert rsh("GET blob \\> blob.bin").ok
    assert (tmp_path / "blob.bin").read_bytes() == blob + b"\n"
    assert rsh("GET blob \\| head -c 1048576 > piped.bin").ok
    assert (tmp_path / "piped.bin").read_bytes() == blob


def test_opsh_c_writes_the_exact_bytes_to_its_stdout(tmp_path, redis_server, client):
    blob = bytes(range(256)) * 4
    client.set("blob", blob)
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run(
        [opsh_binary(), "-c", f"connect {redis_server.url} as r; GET blob"],
        capture_output=True,
        env=clean_env(home),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == blob + b"\n"
