"""Checksums: `hash [ALGO] FILE...`, `hash ALGO --text S`, `hash --check SUMSFILE`.

Files are read in 1 MiB chunks into one reused buffer, so memory stays flat on a multi-GB
file and hashing runs at OpenSSL's speed (hashlib releases the GIL on large updates). The
`--sums` output is the sha256sum format, which `--check` (and sha256sum -c) read back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsh.commands.shared.paths import check_regular, expand_paths, open_regular, plural, read_text
from opsh.shell import kinds
from opsh.shell.errors import OpshError, UsageError, swallowed
from opsh.shell.result import Result
from opsh.shell.session import Session
from opsh.shell.spec import Args, Command, Kind, Param, arg, opt

if TYPE_CHECKING:
    from opsh.shell.progress import Progress

CHUNK = 1024 * 1024
DEFAULT = "sha256"
# Digest length in hex characters -> the algorithm sha*sum tools use for it.
_BY_LENGTH = {32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}
_GNU_LINE = re.compile(r"^(\\?)([0-9a-fA-F]+) [ *](.+)$")
_BSD_LINE = re.compile(r"^(\\?)([A-Za-z0-9_-]+) ?\((.+)\) ?= ?([0-9a-fA-F]+)$")
_WORD = re.compile(r"^[A-Za-z0-9_-]+$")


def algorithms() -> list[str]:
    """Fixed-length digests available here (the shake XOFs need a length, so they are left out)."""
    import hashlib

    return sorted(a for a in hashlib.algorithms_available if not a.startswith("shake") and a != "md5-sha1")


def algorithm(name: str) -> str | None:
    """The hashlib name for `sha256`, `SHA-256`, `sha3-256`, `BLAKE2b`; None if unknown."""
    known = algorithms()
    low = name.lower()
    for candidate in (low, low.replace("-", ""), low.replace("-", "_")):
        if candidate in known:
            return candidate
    return None


def file_digest(path: Path | str, algo: str, progress: Progress | None = None) -> str:
    """Hex digest of a regular file (never /dev/zero, which has no end), streamed through one
    reused 1 MiB buffer."""
    import hashlib

    digest = hashlib.new(algo)
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open_regular(path) as handle:
        while count := handle.readinto(buffer):
            digest.update(view[:count])
            if progress is not None:
                progress.advance(count)
    return digest.hexdigest()


def text_digest(text: str, algo: str) -> str:
    import hashlib

    return hashlib.new(algo, text.encode("utf-8")).hexdigest()


class HashCommand(Command):
    name = "hash"
    area = "hashing"
    summary = "checksums of files or text (md5, sha1, sha256, sha512, blake2b, sha3_256...), or verify a sums file"
    usage = "hash [ALGO] FILE... | hash [ALGO] --text S | hash [ALGO] --check SUMSFILE"
    params = (
        arg(
            "files",
            Kind.PATH,
            required=False,
            multiple=True,
            metavar="[ALGO] FILE",
            help="files; the first word may name the algorithm",
        ),
        opt("--text", kind=Kind.TEXT, metavar="S", help="hash this text (UTF-8) instead of files"),
        opt("-c", "--check", kind=Kind.PATH, metavar="SUMSFILE", help="verify a sha256sum/md5sum-format file"),
        opt("-a", "--algo", kind=Kind.TEXT, metavar="ALGO", help=f"algorithm (default {DEFAULT})"),
        opt("--sums", help="print `HASH  FILE` lines (the sha256sum format) instead of a table"),
    )
    examples = (
        "hash release.tar.gz",
        "hash md5 *.iso",
        "hash sha512 --text 'hello'",
        "hash --sums *.tar.gz > SHA256SUMS",
        "hash --check SHA256SUMS",
        "hash md5 --check MD5SUMS",
    )

    def run(self, session: Session, args: Args) -> Result:
        algo, files = _split_words(session, args)
        if args.check:
            if files or args.text is not None:
                raise UsageError("hash --check takes only the sums file", "e.g. hash --check SHA256SUMS")
            return _check(session, args.check, algo)
        algo = algo or DEFAULT
        if args.text is not None:
            if files:
                raise UsageError("hash: give files or --text, not both")
            return _hash_text(args.text, algo, args.sums)
        if not files:
            raise UsageError("hash: nothing to hash", "give FILE..., --text S or --check SUMSFILE")
        return _hash_files(session, files, algo, args.sums)

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[Any] | None:
        if param.name == "files":
            found: list[tuple[str, str]] = [(a, "algorithm") for a in algorithms() if a.startswith(prefix)]
            return found + kinds.path_candidates(session, prefix)
        if param.name == "algo":
            return [a for a in algorithms() if a.startswith(prefix)]
        return None


def _split_words(session: Session, args: Args) -> tuple[str | None, list[str]]:
    """(algorithm or None, file words): the first word is an algorithm when it names one and is
    not a file here, or when more words, --text or --check follow."""
    words = list(args.files)
    chosen = None
    if args.algo:
        chosen = algorithm(args.algo)
        if chosen is None:
            raise _unknown(args.algo)
    elif words:
        first = algorithm(words[0])
        more = len(words) > 1 or args.text is not None or args.check
        if first and (more or not session.path(words[0]).exists()):
            chosen = first
            words.pop(0)
        elif len(words) > 1 and _WORD.match(words[0]) and not session.path(words[0]).exists():
            raise _unknown(words[0])
    return chosen, words


def _unknown(name: str) -> UsageError:
    return UsageError(f"unknown hash algorithm {name!r}", f"known: {', '.join(algorithms())}")


def _hash_text(text: str, algo: str, sums: bool) -> Result:
    value = text_digest(text, algo)
    if sums:
        return Result.of_text(f"{value}  -")
    return Result.table(["algo", "hash", "file"], [[algo, value, "-"]])


def _hash_files(session: Session, words: list[str], algo: str, sums: bool) -> Result:
    targets = expand_paths(session, words)
    for target in targets:
        check_regular(target.path, target.shown)  # a directory or a device is refused before any work
    total = sum(t.path.stat().st_size for t in targets)
    rows: list[list[Any]] = []
    with session.progress(total, algo, unit="B") as bar:
        for target in targets:
            rows.append([algo, file_digest(target.path, algo, bar), target.shown])
    if sums:
        return Result.of_text("\n".join(sums_line(value, name) for _, value, name in rows))
    return Result.table(["algo", "hash", "file"], rows)


def sums_line(value: str, name: str) -> str:
    """One line in the sha256sum format (a name with a newline or backslash is escaped as GNU does)."""
    if "\\" in name or "\n" in name:
        return "\\" + value + "  " + name.replace("\\", "\\\\").replace("\n", "\\n")
    return f"{value}  {name}"


# ---------------------------------------------------------------- --check


@dataclass(frozen=True)
class _Expected:
    name: str
    digest: str
    algo: str


def _check(session: Session, sums_text: str, algo: str | None) -> Result:
    text = read_text(session.path(sums_text), sums_text, "sums file", errors="replace")
    expected, malformed = _parse_sums(text, algo)
    if not expected:
        raise OpshError(f"{sums_text}: no checksum lines found", "expected `HASH  FILE` lines (the sha256sum format)")
    sizes = [_size_or_none(session.path(e.name)) for e in expected]
    rows: list[list[Any]] = []
    with session.progress(sum(s or 0 for s in sizes), "checking", unit="B") as bar:
        for entry, size in zip(expected, sizes, strict=True):
            rows.append([entry.name, _verify(session.path(entry.name), entry, size, bar), entry.algo])
    return _check_result(rows, malformed)


def _check_result(rows: list[list[Any]], malformed: int) -> Result:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[1]] = counts.get(row[1], 0) + 1
    parts = [f"{counts[s]} {s}" for s in ("OK", "FAILED", "missing", "unreadable") if counts.get(s)]
    if malformed:
        parts.append(f"{plural(malformed, 'malformed line')} skipped")
    failed = any(row[1] != "OK" for row in rows) or malformed > 0
    return Result.table(["file", "status", "algo"], rows, status=", ".join(parts), failed=failed)


def _size_or_none(path: Path) -> int | None:
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        swallowed(f"reading the size of {path} (reported as missing)")
        return None


def _verify(path: Path, entry: _Expected, size: int | None, bar: Progress) -> str:
    if size is None:
        return "missing"
    try:
        actual = file_digest(path, entry.algo, bar)
    except (OSError, OpshError):  # gone or replaced by a device since it was listed
        swallowed(f"hashing {path} (reported as unreadable)")
        return "unreadable"
    return "OK" if actual == entry.digest.lower() else "FAILED"


def _parse_sums(text: str, algo: str | None) -> tuple[list[_Expected], int]:
    """Entries of GNU (`HASH  FILE`, `HASH *FILE`) and BSD (`SHA256 (FILE) = HASH`) lines."""
    found: list[_Expected] = []
    malformed = 0
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        entry = _parse_line(line, algo)
        if entry is None:
            malformed += 1
        else:
            found.append(entry)
    return found, malformed


def _parse_line(line: str, algo: str | None) -> _Expected | None:
    bsd = _BSD_LINE.match(line)
    if bsd:
        escaped, tag, name, digest = bsd.groups()
        chosen = algo or algorithm(tag)
    else:
        gnu = _GNU_LINE.match(line)
        if not gnu:
            return None
        escaped, digest, name = gnu.groups()
        chosen = algo or _BY_LENGTH.get(len(digest))
    if chosen is None or not _length_fits(chosen, digest):
        return None
    if escaped:
        name = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), name)
    return _Expected(name, digest, chosen)


def _length_fits(algo: str, digest: str) -> bool:
    import hashlib

    return len(digest) == hashlib.new(algo).digest_size * 2


COMMANDS = (HashCommand,)
