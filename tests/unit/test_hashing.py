"""`hash` on real files, checked against hashlib and the coreutils sha*sum tools."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from tests.unit.test_files import complete, peak_memory, random_file, result_of


@pytest.fixture
def files(sh, tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    (root / "a.txt").write_bytes(b"alpha\n")
    (root / "b.txt").write_bytes(b"bravo\n")
    (root / "with space.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # spans several 1 MiB chunks
    assert sh("cd work").ok
    return root


def digest(path: Path, algo: str) -> str:
    return hashlib.new(algo, path.read_bytes()).hexdigest()


def test_default_is_sha256_as_a_table(sh, files):
    out = sh("hash a.txt")
    assert digest(files / "a.txt", "sha256") in out.text and "sha256" in out.text
    assert sh.json("hash a.txt") == [{"algo": "sha256", "hash": digest(files / "a.txt", "sha256"), "file": "a.txt"}]


@pytest.mark.parametrize(
    "algo", ["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s", "sha3_256", "sha3_512"]
)
def test_each_algorithm_matches_hashlib(sh, files, algo):
    rows = sh.json(f"hash {algo} a.txt 'with space.bin'")
    assert [r["hash"] for r in rows] == [digest(files / "a.txt", algo), digest(files / "with space.bin", algo)]


def test_algorithm_spellings(sh, files):
    expected = digest(files / "a.txt", "sha3_256")
    for spelling in ("sha3_256", "sha3-256", "SHA3-256"):
        assert sh.json(f"hash {spelling} a.txt")[0]["hash"] == expected
    assert sh.json("hash SHA-256 a.txt")[0]["algo"] == "sha256"
    assert sh.json("hash --algo md5 a.txt")[0]["hash"] == digest(files / "a.txt", "md5")


def test_text(sh):
    assert sh.json("hash md5 --text 'Nobody inspects'")[0]["hash"] == hashlib.md5(b"Nobody inspects").hexdigest()
    assert sh("hash --text héllo --sums").text == hashlib.sha256("héllo".encode()).hexdigest() + "  -\n"


def test_matches_sha256sum_and_its_output_format(sh, files):
    ours = sh("hash --sums *.txt 'with space.bin'").text
    theirs = subprocess.run(
        ["sha256sum", "a.txt", "b.txt", "with space.bin"], cwd=files, capture_output=True, text=True, check=True
    ).stdout
    assert ours == theirs


def test_check_reads_what_sha256sum_and_md5sum_write(sh, files):
    for tool in ("sha256sum", "md5sum"):
        sums = subprocess.run([tool, "a.txt", "with space.bin"], cwd=files, capture_output=True, check=True).stdout
        (files / "SUMS").write_bytes(sums)
        rows = sh.json("hash --check SUMS")
        assert [(r["file"], r["status"]) for r in rows] == [("a.txt", "OK"), ("with space.bin", "OK")]
        assert rows[0]["algo"] == tool.removesuffix("sum")


def test_check_bsd_tag_format_and_binary_marker(sh, files):
    tagged = subprocess.run(["sha1sum", "--tag", "a.txt"], cwd=files, capture_output=True, text=True).stdout
    binary = subprocess.run(["sha256sum", "-b", "b.txt"], cwd=files, capture_output=True, text=True).stdout
    (files / "SUMS").write_text(tagged + binary)
    assert "*b.txt" in binary
    rows = sh.json("hash --check SUMS")
    assert [(r["file"], r["status"], r["algo"]) for r in rows] == [("a.txt", "OK", "sha1"), ("b.txt", "OK", "sha256")]


def test_check_reports_failed_missing_and_malformed(sh, files):
    sh.ok("hash --sums a.txt b.txt > SHA256SUMS")
    (files / "b.txt").write_bytes(b"tampered\n")
    with open(files / "SHA256SUMS", "a") as handle:
        handle.write("0" * 64 + "  gone.txt\nthis line is not a checksum\n")
    out = sh("hash --check SHA256SUMS")
    assert out.exit_code == 1 and not out.ok
    assert "| a.txt    | OK" in out.text and "| b.txt    | FAILED" in out.text and "| gone.txt | missing" in out.text
    result = result_of(sh, "hash --check SHA256SUMS")
    assert result.failed and result.status == "1 OK, 1 FAILED, 1 missing, 1 malformed line skipped"


def test_check_with_no_checksum_lines_or_no_file(sh, files):
    (files / "empty.sums").write_text("nothing here\n")
    assert sh("hash --check empty.sums").err.startswith("error: empty.sums: no checksum lines found")
    assert sh("hash --check nope.sums").err == "error: no such sums file: nope.sums\n"
    assert sh("hash --check empty.sums a.txt").exit_code == 2


def test_bad_input_is_one_clear_line(sh, files):
    out = sh("hash sha265 a.txt")
    assert out.exit_code == 2 and out.err.startswith("error: unknown hash algorithm 'sha265' (known: blake2b")
    assert sh("hash nothing.txt").err == "error: no such file or directory: nothing.txt\n"
    assert sh("hash md5").err.startswith("error: hash: nothing to hash")
    sh.ok("mkdir d")
    assert "is a directory" in sh("hash d").err
    assert "files or --text, not both" in sh("hash a.txt --text x").err


def test_a_file_named_like_an_algorithm_is_still_a_file(sh, files):
    (files / "md5").write_bytes(b"data\n")
    assert sh.json("hash md5")[0] == {"algo": "sha256", "hash": digest(files / "md5", "sha256"), "file": "md5"}


def test_hashing_streams_in_constant_memory(sh, files):
    random_file(files / "big.bin", 48)
    with peak_memory() as peak:
        rows = sh.json("hash big.bin")
    assert rows[0]["hash"] == digest(files / "big.bin", "sha256")
    assert peak[0] < 4 * 1024 * 1024, f"peak {peak[0]} bytes for a 48 MiB file"


def test_completion_offers_algorithms_then_paths(sh, files):
    found = complete(sh, "hash sha3")
    assert "sha3_256" in found and "sha3_512" in found
    assert complete(sh, "hash md5 a") == ["a.txt"]
    assert complete(sh, "hash --algo blake") == ["blake2b", "blake2s"]
