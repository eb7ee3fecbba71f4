"""Shared bits of the benchmarks: timing, medians, peak RSS, and how results are printed.

Every benchmark measures opsh and its reference tool in the same run on the same machine and
prints the figures and their ratio; nothing here asserts a time (timed assertions flake).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ref_bin(name: str) -> str:
    """A reference tool from .venv-ref (installed by tests/bench/run) or the system."""
    base = os.environ.get("OPSH_REF_BIN", str(ROOT / ".venv-ref" / "bin"))
    candidate = Path(base) / name
    if candidate.exists():
        return str(candidate)
    import shutil

    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed: run tests/bench/run")
    return found


def opsh_bin() -> str:
    return str(Path(sys.executable).with_name("opsh"))


def median_time(run: Callable[[], object], repeat: int, warmup: int = 1) -> tuple[float, list[float]]:
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


def timed_process(argv: list[str], **kw: object) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB of the child) for one run of `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(argv, check=True, **kw)  # type: ignore[call-overload]
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(after, before) // 1024


def machine_cpu() -> float:
    """CPU seconds the whole machine spent working so far (user, nice, system; not steal).

    For loopback SSH benchmarks the server's share of a login is this minus the client's own
    CPU: the sshd daemons' cutime is not it (with OpenSSH clients part of sshd's work is never
    reaped into the daemon's cutime, so it reads ~10 ms per login low for them)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:4]
    return sum(int(f) for f in fields) / os.sysconf("SC_CLK_TCK")


def report(title: str, rows: list[tuple[str, float, str]], ratios: list[tuple[str, float, float | None]]) -> bool:
    """rows: (what, value, unit); ratios: (label, ratio, target) where lower is better and a
    target of None means the ratio is shown for scale only. True when every target is met."""
    print(f"\n{title}")
    width = max(len(r[0]) for r in rows)
    for what, value, unit in rows:
        print(f"  {what.ljust(width)}  {value:10.3f} {unit}")
    met = True
    for label, ratio, target in ratios:
        if target is None:
            print(f"  ratio {label}: {ratio:.2f}x (for scale, no target)")
            continue
        verdict = "meets" if ratio <= target else "MISSES"
        met = met and ratio <= target
        print(f"  ratio {label}: {ratio:.2f}x (target <= {target}x: {verdict})")
    sys.stdout.flush()
    return met


def exit_unless(*met: bool) -> None:
    """End a benchmark with status 1 when any of its targets was missed, so a regression shows."""
    if not all(met):
        print("\nsome targets were missed")
        sys.exit(1)
