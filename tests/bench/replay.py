"""Replay overhead: a 10,000-line script of local commands, per-line cost.

Measured end to end (`opsh FILE` minus the cost of starting opsh) and in-process (the
ScriptReplay loop alone). Target: under 1 ms a line.

    tests/bench/run replay
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.bench.common import opsh_bin, report

LINES = 10_000
REPEAT = 5


def make_script(directory: Path) -> Path:
    body = []
    for i in range(LINES // 4):
        body += [f"set n{i % 50} {i}", f"echo line ${{n{i % 50}}}", "help echo", f"# comment {i}"]
    path = directory / "bench.opsh"
    path.write_text("\n".join(body) + "\n")
    return path


def wall(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def in_process(script: Path) -> float:
    import io

    from opsh.history.script import Options, ScriptReplay
    from tests.helpers import Shell

    shell = Shell(script.parent, history=False)
    shell.engine.out = io.StringIO()
    start = time.perf_counter()
    result = ScriptReplay(shell.engine, Options()).run(script)
    elapsed = time.perf_counter() - start
    assert result.ok, result
    return elapsed


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-replay-"))
    script = make_script(work)
    env = dict(os.environ, OPSH_HOME=str(work / "home"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    startup = statistics.median(wall([opsh_bin(), "-c", "echo"], env, work) for _ in range(REPEAT))
    total = statistics.median(wall([opsh_bin(), str(script)], env, work) for _ in range(REPEAT))
    inproc = statistics.median(in_process(script) for _ in range(REPEAT))
    per_line = (total - startup) / LINES * 1000
    report(
        f"replay of a {LINES}-line script of local commands (median of {REPEAT})",
        [
            ("opsh FILE, total", total, "s"),
            ("opsh -c echo (startup)", startup, "s"),
            ("per line, end to end", per_line, "ms"),
            ("per line, in-process", inproc / LINES * 1000, "ms"),
        ],
        [("per-line ms vs 1 ms target", per_line / 1.0, 1.0)],
    )
    return 0 if per_line <= 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
