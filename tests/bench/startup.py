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
REPEAT = 15


def first_prompt(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", dimensions=(40, 120), timeout=30)
    child.expect_exact(READY)
    elapsed = time.perf_counter() - start
    child.terminate(force=True)
    return elapsed


def measure(commands: dict[str, list[str]], env: dict[str, str]) -> dict[str, float]:
    """Median first-prompt time of each command, measured in turns so that a busy moment of
    the machine hits every tool alike."""
    for argv in commands.values():
        first_prompt(argv, env)  # warm-up: first runs write config files and fill caches
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(REPEAT):
        for name, argv in commands.items():
            samples[name].append(first_prompt(argv, env))
    return {name: statistics.median(times) for name, times in samples.items()}


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
        mycli = [
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
        ]
        iredis = [ref_bin("iredis"), "-h", rds.host, "-p", str(rds.port)]
        times = measure({"opsh": [opsh_bin()], "mycli": mycli, "iredis": iredis}, env)
    opsh, mycli_s, iredis_s = times["opsh"], times["mycli"], times["iredis"]
    report(
        f"first prompt in a pty (median of {REPEAT})",
        [("opsh", opsh * 1000, "ms"), ("mycli", mycli_s * 1000, "ms"), ("iredis", iredis_s * 1000, "ms")],
        [("opsh/mycli", opsh / mycli_s, 0.35), ("opsh/iredis", opsh / iredis_s, 0.6)],
    )


if __name__ == "__main__":
    main()
