"""Time from launch to the first prompt, in a pty: opsh vs mycli vs iredis.

mycli and iredis connect before they show a prompt, so each is pointed at the suite's own
MariaDB / Redis test server, started here. All three are prompt-toolkit programs, which turn
bracketed paste on exactly when the prompt is ready: that escape is the finish line.

    tests/bench/run startup
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import pexpect

from tests.bench.common import opsh_bin, ref_bin, report
from tests.servers.mariadb import start_mariadb
from tests.servers.redis import start_redis

READY = "\x1b[?2004h"
REPEAT = 11


def first_prompt(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", dimensions=(40, 120), timeout=30)
    child.expect_exact(READY)
    elapsed = time.perf_counter() - start
    child.terminate(force=True)
    return elapsed


def measure(argv: list[str], env: dict[str, str]) -> float:
    first_prompt(argv, env)  # warm-up: first runs write config files and fill caches
    return statistics.median(first_prompt(argv, env) for _ in range(REPEAT))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-startup-"))
    home = work / "home"
    home.mkdir()
    env = dict(
        {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        HOME=str(home),
        OPSH_HOME=str(home / "opsh"),
        TERM="xterm",
        PROMPT_TOOLKIT_NO_CPR="1",
    )
    with start_mariadb(work / "mariadb") as db, start_redis(work / "redis") as rds:
        opsh = measure([opsh_bin()], env)
        mycli = measure(
            [
                ref_bin("mycli"),
                "-h",
                db.host,
                "-P",
                str(db.port),
                "-u",
                db.user,
                f"--password={db.password}",
                "-D",
                db.database,
            ],
            env,
        )
        iredis = measure([ref_bin("iredis"), "-h", rds.host, "-p", str(rds.port)], env)
    report(
        f"first prompt in a pty (median of {REPEAT})",
        [("opsh", opsh * 1000, "ms"), ("mycli", mycli * 1000, "ms"), ("iredis", iredis * 1000, "ms")],
        [("opsh/mycli", opsh / mycli, 0.35), ("opsh/iredis", opsh / iredis, 0.6)],
    )


if __name__ == "__main__":
    main()
