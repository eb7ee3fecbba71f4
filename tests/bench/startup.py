"""Time from launch to the first prompt, in a pty: opsh against the floor and its peers.

The floor is a bare prompt-toolkit `PromptSession` started by the same interpreter: no
program built on prompt-toolkit can show a prompt sooner, so opsh's target is a ratio to it
(<= 1.5x). mycli and iredis connect before they show a prompt, so each is pointed at the
suite's own MariaDB / Redis test server, started here. All of them are prompt-toolkit
programs, which turn bracketed paste on exactly when the prompt is ready: that escape is the
finish line. Then `-X importtime` (in the same harness) says what opsh imports that the floor
does not, which is where most of the remaining time goes.

    tests/bench/run startup
"""

from __future__ import annotations

import os
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pexpect

from tests.bench.common import opsh_bin, ref_bin, report
from tests.servers.mariadb import start_mariadb
from tests.servers.redis import start_redis

READY = "\x1b[?2004h"
REPEAT = 15
PROFILE_RUNS = 3
FLOOR_CODE = "from prompt_toolkit import PromptSession; PromptSession().prompt('> ')"
TARGETS = {"opsh/floor": 1.5, "opsh/mycli": 0.35, "opsh/iredis": 0.6}


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


@dataclass(frozen=True)
class Imported:
    name: str
    self_ms: float
    top_level: bool  # imported by the program itself, not by another module


def import_profile(argv: list[str], env: dict[str, str], log: Path) -> dict[str, Imported]:
    """What `argv` imports up to its first prompt, each module's own time the least of a few
    runs (the least noisy estimate on a busy machine). stderr goes to `log`, so the pty shows
    the prompt as usual."""
    best: dict[str, Imported] = {}
    command = " ".join(shlex.quote(a) for a in argv)
    for _ in range(PROFILE_RUNS):
        child = pexpect.spawn(
            "/bin/sh",
            ["-c", f"exec {command} 2>{shlex.quote(str(log))}"],
            env=dict(env, PYTHONPROFILEIMPORTTIME="1"),
            encoding="utf-8",
            dimensions=(40, 120),
            timeout=30,
        )
        child.expect_exact(READY)
        child.terminate(force=True)
        for item in _parse_importtime(log.read_text()):
            if item.name not in best or item.self_ms < best[item.name].self_ms:
                best[item.name] = item
    return best


def _parse_importtime(text: str) -> list[Imported]:
    out = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line[len("import time:") :].split("|")
        out.append(Imported(name.strip(), int(self_us) / 1000, not name[1:].startswith(" ")))
    return out


def explain(opsh: dict[str, Imported], floor: dict[str, Imported], opsh_s: float, floor_s: float) -> None:
    """Where opsh's time beyond the floor goes: the modules only opsh imports, largest first."""
    extra = sorted((m for name, m in opsh.items() if name not in floor), key=lambda m: -m.self_ms)
    extra_ms = sum(m.self_ms for m in extra)
    own = sum(m.self_ms for m in extra if m.name.startswith("opsh"))
    beyond = 1000 * (opsh_s - floor_s)
    print(f"\nwhere opsh's {beyond:.0f} ms beyond the floor go (-X importtime, least of {PROFILE_RUNS} runs each)")
    print(f"  modules the floor does not import: {len(extra)}, {extra_ms:.1f} ms (opsh's own: {own:.1f} ms)")
    rest = beyond - extra_ms
    if rest > 1:
        print(f"  the rest, about {rest:.0f} ms: config, session, the prompt's completer/lexer/toolbar, first draw")
    else:
        print("  nothing measurable beyond those imports (importtime's own overhead makes them look larger)")
    for module in extra[:15]:
        print(f"    {module.self_ms:6.1f} ms  {module.name}")
    sys.stdout.flush()


def main() -> int:
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
    floor = [sys.executable, "-c", FLOOR_CODE]
    with start_mariadb(work / "mariadb") as db, start_redis(work / "redis") as rds:
        mycli = [ref_bin("mycli"), "-h", db.host, "-P", str(db.port), "-u", db.user, f"--password={db.password}"]
        mycli += ["-D", db.database]
        iredis = [ref_bin("iredis"), "-h", rds.host, "-p", str(rds.port)]
        times = measure({"opsh": [opsh_bin()], "floor": floor, "mycli": mycli, "iredis": iredis}, env)
    ratios = {
        "opsh/floor": times["opsh"] / times["floor"],
        "opsh/mycli": times["opsh"] / times["mycli"],
        "opsh/iredis": times["opsh"] / times["iredis"],
    }
    report(
        f"first prompt in a pty (median of {REPEAT}); floor = a bare prompt-toolkit PromptSession, same interpreter",
        [(name, seconds * 1000, "ms") for name, seconds in times.items()],
        [(label, ratio, TARGETS[label]) for label, ratio in ratios.items()],
    )
    explain(
        import_profile([opsh_bin()], env, work / "opsh.imports"),
        import_profile(floor, env, work / "floor.imports"),
        times["opsh"],
        times["floor"],
    )
    missed = [label for label, ratio in ratios.items() if ratio > TARGETS[label]]
    if missed:
        print(f"\ntarget missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
