"""Extraction under attack: another process swaps a directory of the destination for a symlink
to somewhere else, as fast as it can, while opsh extracts into it.

A check made before each write (where does this path really land?) cannot stop this: the
directory can become a symlink between the check and the write. Measured on this 2-core
machine with the harness below (files written outside, runs of 400 members):

    opsh, check then write (before)   tar 2 in 40 runs, zip 21 in 40 runs
    opsh, through descriptors (now)   tar 0, zip 0 in 80 runs each
    GNU tar 1.34 (tar -xf)            9254 in 40 runs (58% of the 16000 files it wrote)
    unzip 6.0 (unzip -o)              11421 in 40 runs (71%)

The racer is a separate process (it runs on the other core, not between the GIL's switches),
and a naive extractor (check, then open by path) is put through the same race first, so the
race is shown to be real on this machine before opsh's 0 counts for anything.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FILES = 400  # members below the swapped directory: enough writes for the racer to hit some
RUNS = 20  # per format: a check-then-write extractor leaks within 3 (opsh's old zip code: 21 files in 40)

RACER = r"""
import os, sys, time
dest, outside, stop, report, ready = sys.argv[1:6]
target, swaps, n = os.path.join(dest, "d"), 0, 0
open(ready, "w").close()
while not os.path.exists(stop):
    n += 1
    aside = os.path.join(dest, f".aside-{n}")
    try:
        os.rename(target, aside)  # the real directory out of the way (it stays inside dest)
    except OSError:
        continue
    try:
        os.symlink(outside, target)
        swaps += 1
    except OSError:
        continue
    time.sleep(0)
    try:
        os.unlink(target)
        os.rename(aside, target)
    except OSError:
        pass
with open(report, "w") as out:
    out.write(str(swaps))
"""


def tar_archive(path: Path) -> Path:
    with tarfile.open(path, "w") as tar:
        _add_dir(tar, "d")
        for n in range(FILES):
            _add_file(tar, f"d/f{n:04d}.txt", b"pwned\n")
    return path


def zip_archive(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("d/", b"")
        for n in range(FILES):
            zf.writestr(f"d/f{n:04d}.txt", b"pwned\n")
    return path


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    tar.addfile(info)


def _add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


@contextmanager
def racing(dest: Path, outside: Path) -> Iterator[list[int]]:
    """The racer runs for the block (it is swapping before the block starts: a Python process
    takes longer to start than 400 small files take to extract); the list gets its swaps."""
    stop, report, ready = dest.parent / "stop", dest.parent / "swaps", dest.parent / "ready"
    argv = [sys.executable, "-c", RACER, str(dest), str(outside), str(stop), str(report), str(ready)]
    racer = subprocess.Popen(argv)
    swaps: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and racer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        assert ready.exists(), "the racer did not start"
        yield swaps
    finally:
        stop.touch()
        racer.wait(timeout=30)
        swaps.append(int(report.read_text()))


def escapes(
    tmp_path: Path, archive: Path, extract: Callable[[Path, Path], object], runs: int = RUNS
) -> tuple[int, int]:
    """(files written outside, swaps made) over `runs` extractions of `archive` under the race."""
    outside_total = swaps_total = 0
    for run in range(runs):
        base = tmp_path / f"run{run}"
        dest, outside = base / "dest", base / "outside"
        dest.mkdir(parents=True)
        outside.mkdir()
        (dest / "d").mkdir()  # the archive's directory exists from the start: the racer begins at once
        with racing(dest, outside) as swaps:
            extract(archive, dest)
        outside_total += len(os.listdir(outside))
        swaps_total += swaps[0]
    return outside_total, swaps_total


def naive_extract(archive: Path, dest: Path) -> None:
    """Check where the member lands, then write by path: the pattern the race defeats."""
    root = os.path.realpath(dest)
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            out = os.path.join(root, name)
            try:
                if name.endswith("/") or os.path.commonpath([os.path.realpath(os.path.dirname(out)), root]) != root:
                    continue
                with open(out, "wb") as handle:
                    handle.write(zf.read(name))
            except OSError:
                continue


def test_the_race_is_real_a_check_then_write_extractor_loses_it(tmp_path):
    archive = zip_archive(tmp_path / "a.zip")
    leaked, swaps = escapes(tmp_path, archive, naive_extract, runs=3)
    assert swaps > 0 and leaked > 0, (leaked, swaps)


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_opsh_writes_nothing_outside_under_the_race(sh, tmp_path, kind):
    """Refused (the extraction stops where the symlink appeared) or complete, never outside."""
    archive = (tar_archive if kind == "tar" else zip_archive)(tmp_path / f"a.{kind}")
    outcomes: list[str] = []

    def extract(path: Path, dest: Path) -> None:
        out = sh(f"archive extract {path} --to {dest}")
        assert "Traceback" not in out.err and out.err.count("\n") <= 1, out.err
        outcomes.append("ok" if out.ok else out.err)

    leaked, swaps = escapes(tmp_path, archive, extract)
    assert swaps > 0
    assert leaked == 0, outcomes
