"""10,000 SET + 10,000 GET through one connection: opsh's `pipe` vs a bare redis-py pipeline
vs `redis-cli --pipe`, against a redis-server started here, all in the same run.

opsh is timed as a line typed in a running shell (`pipe cmds.txt`: reading and splitting the
file, sending in batches, reading every reply, drawing the report), redis-py as one
non-transactional pipeline built and executed in this process, redis-cli as a whole process
fed the same commands in RESP. Target: opsh at least 0.8x the redis-py pipeline's ops/s.

    tests/bench/run redis
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.bench.common import report
from tests.helpers import Shell
from tests.servers.redis import RedisServer, start_redis

KEYS = 10_000
COMMANDS = 2 * KEYS
REPEAT = 7


def commands() -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for i in range(KEYS):
        out.append(("SET", f"key:{i}", f"value-{i}"))
        out.append(("GET", f"key:{i}"))
    return out


def resp(cmds: list[tuple[str, ...]]) -> bytes:
    parts = []
    for cmd in cmds:
        parts.append(f"*{len(cmd)}\r\n")
        parts += [f"${len(arg)}\r\n{arg}\r\n" for arg in cmd]
    return "".join(parts).encode()


def median_seconds(run) -> float:  # noqa: ANN001 - a no-argument callable
    run()  # warm-up: connections open, caches filled
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bench_opsh(server: RedisServer, work: Path, text_file: Path) -> float:
    shell = Shell(work)
    assert shell(f"connect {server.url} as bench").ok

    def run() -> None:
        out = shell(f"pipe {text_file}")
        assert out.ok, out.err

    seconds = median_seconds(run)
    shell.close()
    return seconds


def bench_redis_py(server: RedisServer, cmds: list[tuple[str, ...]]) -> float:
    import redis

    client = redis.Redis(host=server.host, port=server.port)

    def run() -> None:
        pipe = client.pipeline(transaction=False)
        for i in range(KEYS):
            pipe.set(f"key:{i}", f"value-{i}")
            pipe.get(f"key:{i}")
        replies = pipe.execute()
        assert len(replies) == COMMANDS

    seconds = median_seconds(run)
    client.close()
    return seconds


def bench_redis_cli(server: RedisServer, resp_file: Path) -> float:
    def run() -> None:
        with open(resp_file, "rb") as feed:
            done = subprocess.run(
                ["redis-cli", "-h", server.host, "-p", str(server.port), "--pipe"],
                stdin=feed,
                capture_output=True,
                check=True,
            )
        assert b"errors: 0, replies: 20000" in done.stdout, done.stdout

    return median_seconds(run)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-redis-"))
    cmds = commands()
    text_file = work / "cmds.txt"
    text_file.write_text("".join(" ".join(c) + "\n" for c in cmds))
    resp_file = work / "cmds.resp"
    resp_file.write_bytes(resp(cmds))
    with start_redis(work / "redis") as server:
        opsh = bench_opsh(server, work, text_file)
        redis_py = bench_redis_py(server, cmds)
        redis_cli = bench_redis_cli(server, resp_file)
    rate = {name: COMMANDS / seconds for name, seconds in (("opsh", opsh), ("py", redis_py), ("cli", redis_cli))}
    report(
        f"{KEYS:,} SET + {KEYS:,} GET through one connection (median of {REPEAT})",
        [
            ("opsh pipe (text file)", rate["opsh"], "ops/s"),
            ("redis-py pipeline", rate["py"], "ops/s"),
            ("redis-cli --pipe (RESP file, whole process)", rate["cli"], "ops/s"),
        ],
        # Time ratios (lower is better): 1.25x the time is 0.8x the ops/s.
        [("opsh/redis-py pipeline time", opsh / redis_py, 1.25)],
    )
    print(f"  opsh ops/s vs redis-py pipeline: {rate['opsh'] / rate['py']:.2f}x (target >= 0.8x)")
    print(f"  opsh ops/s vs redis-cli --pipe: {rate['opsh'] / rate['cli']:.2f}x (reference: a C client)")


if __name__ == "__main__":
    main()
