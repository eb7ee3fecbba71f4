"""sha256 of a 1 GiB file: opsh against coreutils `sha256sum`, measured in the same run.

The file holds real data (a random 16 MiB block written 64 times; no sparse holes) and is
read once before timing so every contender hashes from the page cache. Three figures:
- `opsh -c 'hash sha256 FILE'`: the whole command, interpreter start-up included;
- `file_digest()` in-process: the hashing loop alone;
- peak RSS of opsh hashing 1 GiB vs hashing a 1-byte file: it should stay flat (the 1 MiB
  read buffer is reused), so the difference is what streaming costs.

    tests/bench/run hash
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from opsh.commands.hashing import file_digest
from tests.bench.common import opsh_bin, report

SIZE_MB = 1024
BLOCK_MB = 16
REPEAT = 3


def write_data(path: Path) -> None:
    block = os.urandom(BLOCK_MB * 1024 * 1024)
    with open(path, "wb") as handle:
        for _ in range(SIZE_MB // BLOCK_MB):
            handle.write(block)
    if os.stat(path).st_blocks * 512 < SIZE_MB * 1024 * 1024:
        raise SystemExit("the data file came out sparse")


def run_child(argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB of this one child, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=dict(os.environ, NO_COLOR="1"))
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed with {proc.returncode}")
    return seconds, usage.ru_maxrss / 1024, out


def main() -> None:
    sha256sum = shutil.which("sha256sum")
    if not sha256sum:
        raise SystemExit("sha256sum (coreutils) is not installed")
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-hash-"))
    try:
        data, tiny = work / "data.bin", work / "tiny.bin"
        write_data(data)
        tiny.write_bytes(b"x")
        opsh = [opsh_bin(), "--no-history", "--format", "plain", "-c"]
        reference = run_child([sha256sum, str(data)])[2].split()[0]  # also warms the page cache
        samples: dict[str, list[float]] = {"sha256sum": [], "opsh": [], "inproc": []}
        rss_big: list[float] = []
        for _ in range(REPEAT):  # interleaved, so drift on a busy machine hits all alike
            samples["sha256sum"].append(run_child([sha256sum, str(data)])[0])
            seconds, rss, out = run_child([*opsh, f"hash sha256 {data}"])
            if reference not in out:
                raise SystemExit(f"opsh gave a different digest: {out!r}")
            samples["opsh"].append(seconds)
            rss_big.append(rss)
            start = time.perf_counter()
            if file_digest(data, "sha256") != reference:
                raise SystemExit("file_digest gave a different digest")
            samples["inproc"].append(time.perf_counter() - start)
        rss_tiny = run_child([*opsh, f"hash sha256 {tiny}"])[1]
    finally:
        shutil.rmtree(work)
    ref, whole, inproc = (statistics.median(samples[k]) for k in ("sha256sum", "opsh", "inproc"))
    report(
        f"sha256 of a {SIZE_MB} MiB file (median of {REPEAT}, page cache warm)",
        [
            ("sha256sum", ref, "s"),
            ("opsh -c 'hash sha256 FILE'", whole, "s"),
            ("opsh file_digest() in-process", inproc, "s"),
            ("opsh throughput (in-process)", SIZE_MB / inproc, "MiB/s"),
            ("opsh peak RSS, 1 GiB file", max(rss_big), "MB"),
            ("opsh peak RSS, 1-byte file", rss_tiny, "MB"),
            ("RSS growth from streaming", max(rss_big) - rss_tiny, "MB"),
        ],
        [("opsh/sha256sum", whole / ref, 1.10), ("in-process/sha256sum", inproc / ref, 1.10)],
    )


if __name__ == "__main__":
    main()
