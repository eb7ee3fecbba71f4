"""10,000 SET + 10,000 GET through one connection: opsh's `pipe` vs a bare redis-py pipeline
vs `redis-cli --pipe`, against a redis-server started here, all in the same run.

opsh is timed as a line typed in a running shell (`pipe cmds.txt`: reading and splitting the
file, sending in batches, reading every reply, drawing the report), redis-py as one
non-transactional pipeline built and executed in this process, redis-cli as a whole process
fed the same commands in RESP; the three take turns, REPEAT rounds. Targets (issue 16): opsh
at least 0.3x the ops/s of `redis-cli --pipe` (the floor: a C client) and at least 0.8x the
redis-py pipeline's. The exit status is 1 when a target is missed.

    tests/bench/run redis
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def interleaved_medians(runs: dict[str, Callable[[], None]]) -> dict[str, float]:
    """Median seconds of each run, the runs taking turns so that a busy moment of the machine
    falls on all of them alike (the ratios are what matter)."""
    for run in runs.values():
        run()  # warm-up: connections open, caches filled
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(REPEAT):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(times) for name, times in samples.items()}


def opsh_run(shell: Shell, text_file: Path) -> Callable[[], None]:
    def run() -> None:
        out = shell(f"pipe {text_file}")
        assert out.ok, out.err

    return run


def redis_py_run(client: Any) -> Callable[[], None]:
    def run() -> None:
        pipe = client.pipeline(transaction=False)
        for i in range(KEYS):
            pipe.set(f"key:{i}", f"value-{i}")
            pipe.get(f"key:{i}")
        replies = pipe.execute()
        assert len(replies) == COMMANDS

    return run


def redis_cli_run(server: RedisServer, resp_file: Path) -> Callable[[], None]:
    def run() -> None:
        with open(resp_file, "rb") as feed:
            done = subprocess.run(
                ["redis-cli", "-h", server.host, "-p", str(server.port), "--pipe"],
                stdin=feed,
                capture_output=True,
                check=True,
            )
        assert f"errors: 0, replies: {COMMANDS}".encode() in done.stdout, done.stdout

    return run


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-redis-"))
    cmds = commands()
    text_file = work / "cmds.txt"
    text_file.write_text("".join(" ".join(c) + "\n" for c in cmds))
    resp_file = work / "cmds.resp"
    resp_file.write_bytes(resp(cmds))
    with start_redis(work / "redis") as server:
        import redis

        shell = Shell(work)
        assert shell(f"connect {server.url} as bench").ok
        client = redis.Redis(host=server.host, port=server.port)
        seconds = interleaved_medians(
            {
                "opsh": opsh_run(shell, text_file),
                "py": redis_py_run(client),
                "cli": redis_cli_run(server, resp_file),
            }
        )
        shell.close()
        client.close()
    rate = {name: COMMANDS / s for name, s in seconds.items()}
    opsh, redis_py, cli = seconds["opsh"], seconds["py"], seconds["cli"]
    report(
        f"{KEYS:,} SET + {KEYS:,} GET through one connection (median of {REPEAT})",
        [
            ("opsh pipe (text file), median", opsh * 1000, "ms"),
            ("redis-cli --pipe (RESP file, whole process), median", cli * 1000, "ms"),
            ("redis-py pipeline, median", redis_py * 1000, "ms"),
            ("opsh pipe", rate["opsh"], "ops/s"),
            ("redis-cli --pipe", rate["cli"], "ops/s"),
            ("redis-py pipeline", rate["py"], "ops/s"),
        ],
        # Time ratios (lower is better): 3.33x the time is 0.3x the ops/s, 1.25x is 0.8x.
        [("opsh/redis-cli --pipe time", opsh / cli, 3.33), ("opsh/redis-py pipeline time", opsh / redis_py, 1.25)],
    )
    print(f"  opsh ops/s vs redis-cli --pipe: {rate['opsh'] / rate['cli']:.2f}x (target >= 0.3x)")
    print(f"  opsh ops/s vs redis-py pipeline: {rate['opsh'] / rate['py']:.2f}x (target >= 0.8x)")
    missed = opsh / cli > 3.33 or opsh / redis_py > 1.25
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
