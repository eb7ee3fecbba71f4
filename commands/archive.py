"""Archives and compression: `archive create|list|extract` (tar, tar.gz, tar.bz2, tar.xz, zip)
and `gzip` / `gunzip`.

Extraction is the dangerous half. Every member is checked before anything is written: an
absolute name, a `..` component, a symlink or hard link leading out, a path through a symlink
member, a symlink already in the destination on a member's way, or a device file makes the
whole archive refused, naming the member; tar members also go through tarfile's `data` filter
for its escape checks. Then both formats are written by our own loop through an open
descriptor of the destination (shared/confined.py), one name at a time, never following a
symlink: a directory swapped for a symlink while we extract stops the extraction instead of
redirecting a write. Modes are restored as stored, as `tar -p` and unzip do (the data filter
would turn a 700 directory into 755 and a 444 file into 644), without setuid and setgid unless
asked: an archive from elsewhere must not plant a setuid binary. Extracted files, new archives
and (de)compressed files are written under a temporary name and renamed at the end, so a
failure or Ctrl-C never leaves a half-written file behind.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from opsh.commands.shared.confined import Confined, SymlinkInTheWay
from opsh.commands.shared.paths import Target, check_regular, expand_paths, file_type, plural, timestamp
from opsh.shell.errors import NotFound, OpshError, UsageError, swallowed
from opsh.shell.result import Result, Size
from opsh.shell.session import Session
from opsh.shell.spec import Args, Command, Kind, arg, opt

if TYPE_CHECKING:
    import tarfile
    import zipfile

    from opsh.shell.progress import Progress

AREA = "archive"
CHUNK = 1024 * 1024
FORMATS = {  # name ending -> format
    ".tar": "tar",
    ".tar.gz": "tar.gz",
    ".tgz": "tar.gz",
    ".tar.bz2": "tar.bz2",
    ".tbz2": "tar.bz2",
    ".tbz": "tar.bz2",
    ".tar.xz": "tar.xz",
    ".txz": "tar.xz",
    ".zip": "zip",
}
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")  # C:\x or C:/x in a zip made on Windows
_TAR_WRITE_MODES = {"tar": "w", "tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}
_UTF8_NAME = 0x800  # zip general purpose flag: the name is UTF-8
_OEM_SYSTEMS = (0, 6)  # "made by" MS-DOS (FAT) and OS/2 (HPFS): names in cp437, as unzip reads them
_SPECIAL_BITS = stat.S_ISUID | stat.S_ISGID


class UnsafeArchive(OpshError):
    """A member would land outside the destination (or is a device): nothing is extracted."""


def archive_format(name: str) -> str:
    low = name.lower()
    for ending, fmt in sorted(FORMATS.items(), key=lambda kv: -len(kv[0])):
        if low.endswith(ending):
            return fmt
    raise UsageError(f"archive: cannot tell the format of {name!r}", f"name it {', '.join(FORMATS)}")


@contextmanager
def corrupt_is_error(shown: str) -> Iterator[None]:
    """Turn a library's complaint about bad data into one line naming the archive."""
    import lzma
    import tarfile
    import zipfile
    import zlib

    try:
        yield
    except tarfile.FilterError as exc:
        raise UnsafeArchive(
            f"refusing to extract {shown}: {exc}", "nothing outside the destination was written"
        ) from None
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise OpshError(f"corrupt or truncated archive {shown}: {_detail(exc)}") from None
    except OSError as exc:
        if exc.errno is not None:
            raise
        raise OpshError(f"corrupt or truncated archive {shown}: {_detail(exc)}") from None


def _detail(exc: BaseException) -> str:
    text = (str(exc) or type(exc).__name__).splitlines()[0]
    if text.startswith(("truncated header", "invalid header", "bad checksum", "empty file", "file could not be")):
        return "no valid tar header (a single compressed file? that is for gunzip)"
    damaged = re.match(r"not an? (\w+) file$", text)
    if damaged:
        return f"damaged {damaged.group(1)} data (truncated?)"
    if text == "File is not a zip file":
        return "the zip directory at its end is missing (truncated?)"
    return "unexpected end of data" if "end-of-stream" in text or "ended before" in text else text


@contextmanager
def replaced_at_end(out: Path) -> Iterator[Path]:
    """A temporary file next to `out`, renamed to `out` only if the block succeeds."""
    import tempfile

    fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        os.replace(temp, out)
    finally:
        if temp.exists():
            temp.unlink()


class _Counting:
    """A file wrapper that advances a progress bar by what is read through it."""

    def __init__(self, handle: IO[bytes], bar: Progress) -> None:
        self.handle = handle
        self.bar = bar

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.bar.advance(len(data))
        return data


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


def copy_stream(src: Readable, dst: Writable, bar: Progress | None = None) -> int:
    """Copy in 1 MiB chunks (constant memory); returns the bytes copied."""
    total = 0
    while chunk := src.read(CHUNK):
        dst.write(chunk)
        total += len(chunk)
        if bar is not None:
            bar.advance(len(chunk))
    return total


def open_tar(path: Path, mode: str, **options: Any) -> tarfile.TarFile:
    """tarfile.open with a mode chosen at run time (its type stubs take literal modes only)."""
    import tarfile

    opener: Callable[..., tarfile.TarFile] = tarfile.open
    return opener(path, mode, **options)


# ================================================================ create


@dataclass(frozen=True)
class _Input:
    path: Path
    arcname: str
    st: os.stat_result


def _arcname(target: Target) -> str:
    """Relative paths are stored as typed (`src/app/...`); absolute or `..` ones by their name."""
    norm = posixpath.normpath(target.shown.replace(os.sep, "/"))
    if os.path.isabs(norm) or norm == ".." or norm.startswith("../") or norm == ".":
        return target.path.resolve().name or "root"
    return norm


def _inputs(targets: list[Target], out: Path) -> Iterator[_Input]:
    """Each path and everything below it, directories before their contents, in name order."""
    for target in targets:
        base = _arcname(target)
        top = target.path
        yield from _walk_input(top, base, out)


def _walk_input(top: Path, base: str, out: Path) -> Iterator[_Input]:
    stack = [(top, base)]
    while stack:
        path, name = stack.pop()
        st = path.lstat()
        if path == out:
            continue  # never put the archive inside itself
        yield _Input(path, name, st)
        if stat.S_ISDIR(st.st_mode):
            children = sorted(os.listdir(path), reverse=True)
            stack.extend((path / child, f"{name}/{child}") for child in children)


class ArchiveCreate(Command):
    name = "create"
    area = AREA
    summary = "pack files and directories; the format comes from OUT's name (.tar .tar.gz .tgz .tar.bz2 .tar.xz .zip)"
    params = (
        arg("out", Kind.PATH, help="the archive to write"),
        arg("paths", Kind.PATH, multiple=True, help="files and directories to put in it"),
        opt("-l", "--level", kind=Kind.INT, metavar="N", help="compression level (gz/bz2/zip 1-9, xz 0-9)"),
    )
    examples = (
        "archive create logs.tar.gz /var/log/nginx",
        "archive create site.zip public/ --level 9",
        "archive create backup.tar.xz etc/ *.conf",
    )

    def run(self, session: Session, args: Args) -> Result:
        fmt = archive_format(args.out)
        out = session.path(args.out)
        if not out.parent.is_dir():
            raise NotFound(f"no such directory: {out.parent}")
        targets = expand_paths(session, args.paths)
        inputs = list(_inputs(targets, out))
        total = sum(i.st.st_size for i in inputs if stat.S_ISREG(i.st.st_mode))
        with session.progress(total, f"packing {args.out}", unit="B") as bar, replaced_at_end(out) as temp:
            if fmt == "zip":
                skipped = _write_zip(temp, inputs, args.level, bar)
            else:
                skipped = _write_tar(temp, fmt, inputs, args.level, bar)
        status = f"{args.out}: {plural(len(inputs) - len(skipped), 'entry', 'entries')}, "
        status += f"{Size(total).human()} -> {Size(out.stat().st_size).human()}"
        if skipped:
            status += f"; skipped {plural(len(skipped), 'special file')} ({', '.join(skipped[:3])})"
        return Result.empty(status=status)


def _write_tar(temp: Path, fmt: str, inputs: list[_Input], level: int | None, bar: Progress) -> list[str]:
    import tarfile

    options: dict[str, Any] = {}
    if level is not None and fmt in ("tar.gz", "tar.bz2"):
        options["compresslevel"] = _level(level, 1, 9)
    elif level is not None and fmt == "tar.xz":
        options["preset"] = _level(level, 0, 9)
    skipped = []
    with open_tar(temp, _TAR_WRITE_MODES[fmt], format=tarfile.PAX_FORMAT, **options) as tar:
        for item in inputs:
            info = tar.gettarinfo(str(item.path), item.arcname)
            if info is None or not (info.isreg() or info.isdir() or info.issym() or info.islnk()):
                skipped.append(item.arcname)
            elif info.isreg():
                with open(item.path, "rb") as handle:
                    tar.addfile(info, _Counting(handle, bar))
            else:
                tar.addfile(info)
    return skipped


def _write_zip(temp: Path, inputs: list[_Input], level: int | None, bar: Progress) -> list[str]:
    import zipfile

    skipped = []
    with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED, compresslevel=level and _level(level, 1, 9)) as zf:
        for item in inputs:
            mode = item.st.st_mode
            if stat.S_ISLNK(mode):
                zf.writestr(_zip_symlink_info(item), os.readlink(item.path))
            elif stat.S_ISDIR(mode):
                zf.write(item.path, item.arcname)
            elif stat.S_ISREG(mode):
                info = zipfile.ZipInfo.from_file(item.path, item.arcname, strict_timestamps=False)
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(item.path, "rb") as src, zf.open(info, "w") as dst:
                    copy_stream(src, dst, bar)
            else:
                skipped.append(item.arcname)
    return skipped


def _zip_symlink_info(item: _Input) -> zipfile.ZipInfo:
    """A symlink stored as Info-ZIP does (`zip -y`): Unix mode in the high bits, target as data."""
    import zipfile

    when = dt.datetime.fromtimestamp(max(item.st.st_mtime, 315532800)).timetuple()[:6]
    info = zipfile.ZipInfo(item.arcname, date_time=when)
    info.create_system = 3
    info.external_attr = (item.st.st_mode & 0xFFFF) << 16
    return info


def _level(level: int, low: int, high: int) -> int:
    if not low <= level <= high:
        raise UsageError(f"--level must be {low}-{high} for this format")
    return level


# ================================================================ members (list and the safety checks)


@dataclass(frozen=True)
class Member:
    """One archive entry, whatever the format."""

    name: str
    type: str  # file dir link hardlink, or char/block/fifo/other
    size: int
    mode: int
    mtime: dt.datetime | None
    target: str  # what a link points to


def _tar_type(info: tarfile.TarInfo) -> str:
    checks = (
        (info.isreg, "file"),
        (info.isdir, "dir"),
        (info.issym, "link"),
        (info.islnk, "hardlink"),
        (info.ischr, "char"),
        (info.isblk, "block"),
        (info.isfifo, "fifo"),
    )
    return next((kind for check, kind in checks if check()), "other")


def _tar_member(info: tarfile.TarInfo) -> Member:
    kind = _tar_type(info)
    mtime = timestamp(info.mtime) if info.mtime else None
    return Member(info.name, kind, info.size, info.mode, mtime, info.linkname)


def _zip_member(info: zipfile.ZipInfo) -> Member:
    unix = info.external_attr >> 16
    if info.is_dir():
        kind = "dir"
    elif info.create_system == 3 and stat.S_IFMT(unix) and not stat.S_ISREG(unix):  # writestr leaves S_IFMT 0
        kind = file_type(unix)
    else:
        kind = "file"
    mtime = dt.datetime(*info.date_time)
    return Member(info.filename, kind, info.file_size, stat.S_IMODE(unix), mtime, "")


def _mode_text(member: Member) -> str:
    codes = {"file": stat.S_IFREG, "dir": stat.S_IFDIR, "link": stat.S_IFLNK, "hardlink": stat.S_IFREG}
    return stat.filemode(codes.get(member.type, stat.S_IFREG) | member.mode)


def _escapes(path: str) -> bool:
    return path == ".." or path.startswith("../")


def check_members(members: Iterable[Member], shown: str) -> None:
    """Refuse the archive if any member could write outside the destination."""
    members = list(members)
    links = {posixpath.normpath(m.name) for m in members if m.type == "link"}

    def refuse(member: Member, why: str) -> UnsafeArchive:
        return UnsafeArchive(f"refusing to extract {shown}: member {member.name!r} {why}", "nothing was extracted")

    for member in members:
        name = member.name
        if not name or name.startswith(("/", "\\")) or _DRIVE.match(name):
            raise refuse(member, "has an absolute path")
        if ".." in name.split("/"):
            raise refuse(member, "goes up with '..'")
        norm = posixpath.normpath(name)
        parts = norm.split("/")
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in links:
                raise refuse(member, f"would be written through the symlink {'/'.join(parts[:depth])!r}")
        if member.type in ("char", "block", "fifo", "other"):
            raise refuse(member, f"is a device or special file ({member.type}); those are never extracted")
        if member.type == "link":
            _check_symlink(member, norm, refuse)
        if member.type == "hardlink":
            target = member.target
            if target.startswith("/") or ".." in target.split("/"):
                raise refuse(member, f"is a hard link to {target!r}, outside the destination")


def _check_symlink(member: Member, norm: str, refuse: Callable[[Member, str], UnsafeArchive]) -> None:
    target = member.target
    if not target:
        raise refuse(member, "is a symlink with no target")
    if target.startswith("/"):
        raise refuse(member, f"is a symlink to the absolute path {target!r}")
    landing = posixpath.normpath(posixpath.join(posixpath.dirname(norm), target))
    if _escapes(landing):
        raise refuse(member, f"is a symlink to {target!r}, outside the destination")


# ================================================================ list and extract


class ArchiveList(Command):
    name = "list"
    area = AREA
    summary = "what an archive holds: name, type, size, mode, mtime (and link targets)"
    params = (arg("archive", Kind.PATH),)
    examples = ("archive list backup.tar.gz", "archive list site.zip --format json")

    def run(self, session: Session, args: Args) -> Result:
        path, shown = _existing_archive(session, args.archive)
        headers = ["name", "type", "size", "mode", "mtime", "target"]
        return Result.table(headers, _list_rows(path, shown))


def _list_rows(path: Path, shown: str) -> Iterator[list[Any]]:
    with corrupt_is_error(shown):
        for member in _iter_members(path):
            yield [member.name, member.type, Size(member.size), _mode_text(member), member.mtime, member.target]


def _iter_members(path: Path) -> Iterator[Member]:
    kind = archive_kind(path)
    if kind == "zip":
        with open_zip(path) as zf:
            for info in zf.infolist():
                yield _with_target(zf, info)
        return
    with open_tar(path, f"r:{kind}") as tar:
        for member in tar:
            yield _tar_member(member)


def open_zip(path: Path) -> zipfile.ZipFile:
    """A zip for reading, its names decoded as unzip 6.0 reads them. A name without the UTF-8
    flag is UTF-8 when its bytes are valid UTF-8 (Info-ZIP on Linux writes them so, flag unset);
    else, from a zip made on MS-DOS or OS/2, cp437 (their OEM code page, the zip format's
    default: unzip writes it as Latin-1 bytes, opsh as UTF-8); else (made on Unix, or on NTFS)
    the bytes themselves, as unzip and tar keep them: carried as surrogate escapes, they become
    the same bytes again on disk. Only `filename` changes: zipfile compares `orig_filename`
    with each local header when a member is read."""
    import zipfile

    zf = zipfile.ZipFile(path)
    for info in zf.infolist():
        if info.flag_bits & _UTF8_NAME:
            continue
        raw = info.orig_filename.encode("cp437")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            if info.create_system in _OEM_SYSTEMS:
                continue
            name = raw.decode("utf-8", "surrogateescape")
        info.filename = name.split("\0", 1)[0]  # cut at a NUL, as ZipInfo does
    return zf


_MAGIC = ((b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"\x1f\x8b", "gz"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))


def archive_kind(path: Path) -> str:
    """zip, gz, bz2, xz or "" (plain tar) from the first bytes, so a damaged archive's own
    error is reported rather than "not an archive"; the name does not matter."""
    import zipfile

    with open(path, "rb") as handle:
        head = handle.read(512)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if zipfile.is_zipfile(path):  # self-extracting: a stub before the zip
        return "zip"
    if head[257:262] != b"ustar":
        raise OpshError(f"{path.name} is not a tar or zip archive")
    return ""


def _existing_archive(session: Session, text: str) -> tuple[Path, str]:
    """A regular file: /dev/zero read as an archive never ends (zipfile reads to the end)."""
    path = session.path(text)
    check_regular(path, text, "archive")
    return path, text


class ArchiveExtract(Command):
    name = "extract"
    area = AREA
    summary = (
        "unpack an archive (all of it, or the MEMBERs named), modes as stored (tar -p, unzip) but setuid/setgid"
        " only with --preserve-special; never writes outside the destination"
    )
    params = (
        arg("archive", Kind.PATH),
        arg("members", Kind.TEXT, required=False, multiple=True, help="only these members (a directory: all below)"),
        opt("--to", kind=Kind.DIR, metavar="DIR", help="destination, created if missing (default: .)"),
        opt(
            "--preserve-special",
            help="keep setuid and setgid bits too (by default they are dropped, as unzip does; every other"
            " mode bit is restored as stored, without the umask; owners are not restored)",
        ),
    )
    examples = (
        "archive extract release.tar.gz --to /srv/app",
        "archive extract site.zip",
        "archive extract backup.tar.xz etc/nginx --to /tmp/restore",
        "archive extract tools.tar --preserve-special   # setuid/setgid bits too",
    )
    def run(self, session: Session, args: Args) -> Result:
        path, shown = _existing_archive(session, args.archive)
        dest = session.path(args.to or ".")
        keep = _SPECIAL_BITS if args.preserve_special else 0
        with corrupt_is_error(shown):
            if archive_kind(path) == "zip":
                count, size = _extract_zip(session, path, shown, dest, args.members, keep)
            else:
                count, size = _extract_tar(session, path, shown, dest, args.members, keep)
        where = args.to or "."
        return Result.empty(status=f"extracted {plural(count, 'member')} ({Size(size).human()}) to {where}")


def restored_mode(mode: int, keep_special: int) -> int:
    """The permission bits to give an extracted entry: all of them (the sticky bit too),
    except setuid/setgid unless `keep_special` holds them."""
    return stat.S_IMODE(mode) & ~(_SPECIAL_BITS & ~keep_special)


def _selected(names: list[str], wanted: list[str], shown: str) -> list[bool]:
    """Which members to extract: all, or those named (a directory name takes what is below it)."""
    if not wanted:
        return [True] * len(names)
    prefixes = [w.rstrip("/") for w in wanted]
    picked = [any(n.rstrip("/") == p or n.startswith(p + "/") for p in prefixes) for n in names]
    for prefix in prefixes:
        if not any(n.rstrip("/") == prefix or n.startswith(prefix + "/") for n in names):
            raise NotFound(f"{shown} has no member {prefix!r}", f"`archive list {shown}` shows them")
    return picked


def _extract_tar(
    session: Session, path: Path, shown: str, dest: Path, wanted: list[str], keep_special: int
) -> tuple[int, int]:
    with open_tar(path, f"r:{archive_kind(path)}") as tar:
        infos = tar.getmembers()  # reads every header: a truncated archive fails here, before any write
        picked = [i for i, keep in zip(infos, _selected([i.name for i in infos], wanted, shown), strict=True) if keep]
        members = [_tar_member(i) for i in picked]
        check_members(members, shown)
        _data_filter_checks(picked, dest)
        total = sum(i.size for i in picked if i.isreg())
        directories: list[_Directory] = []
        with _destination(dest, members, shown) as out, session.progress(total, f"extracting {shown}", unit="B") as bar:
            for info, member in zip(picked, members, strict=True):
                with _member_errors(member.name, shown):
                    _write_tar_member(tar, info, member, out, bar, keep_special)
                if member.type == "dir":
                    directories.append(_Directory(member.name, restored_mode(info.mode, keep_special), info.mtime))
            _set_directories(out, directories, shown)
    return len(picked), total


def _data_filter_checks(infos: list[tarfile.TarInfo], dest: Path) -> None:
    """tarfile's `data` filter on every member before anything is written, for its escape
    checks only: the modes it would set (755 directories, files at least 600, no group or
    other write) are not used, the stored ones are restored."""
    import tarfile

    for info in infos:
        tarfile.data_filter(info, str(dest))


def _write_tar_member(
    tar: tarfile.TarFile, info: tarfile.TarInfo, member: Member, out: Confined, bar: Progress, keep_special: int
) -> None:
    """One member; directories get their mode and time at the end (`_set_directories`)."""
    name = posixpath.normpath(member.name)
    if member.type == "dir":
        out.make_dir(name)
    elif member.type == "link":
        out.make_symlink(name, info.linkname)
    elif member.type == "hardlink":
        _write_tar_hardlink(tar, info, name, out, bar, keep_special)
    else:
        _write_tar_file(tar, info, name, out, bar, keep_special)


def _write_tar_file(
    tar: tarfile.TarFile, info: tarfile.TarInfo, name: str, out: Confined, bar: Progress, keep_special: int
) -> None:
    def fill(dst: IO[bytes]) -> None:
        src = tar.extractfile(info)  # a hard link's data is its target member's
        if src is not None:
            copy_stream(src, dst, bar)

    out.write_file(name, fill, restored_mode(info.mode, keep_special), info.mtime)


def _write_tar_hardlink(
    tar: tarfile.TarFile, info: tarfile.TarInfo, name: str, out: Confined, bar: Progress, keep_special: int
) -> None:
    """A link to the file already extracted (or already there), else a copy of the target
    member's data, as tarfile and GNU tar do when the target was not extracted."""
    try:
        out.make_hardlink(name, posixpath.normpath(info.linkname))
        return
    except FileNotFoundError:
        swallowed(f"linking {name} to {info.linkname} (its data is copied instead)")
    try:
        _write_tar_file(tar, info, name, out, bar, keep_special)
    except KeyError:  # tarfile: "linkname ... not found"
        missing = f"member {info.name!r} is a hard link to {info.linkname!r}, which the archive does not hold"
        raise OpshError(missing) from None


@dataclass(frozen=True)
class _Directory:
    name: str
    mode: int | None  # None: not stored (a zip made elsewhere than Unix)
    mtime: float | None


@contextmanager
def _destination(dest: Path, members: list[Member], shown: str) -> Iterator[Confined]:
    """The destination, created if missing and held open: every write goes through it."""
    dest.mkdir(parents=True, exist_ok=True)
    _refuse_existing_symlinks(dest, members, shown)
    with Confined(dest) as out:
        yield out


def _refuse_existing_symlinks(dest: Path, members: list[Member], shown: str) -> None:
    """A symlink already in the destination on a member's way refuses the archive before
    anything is written (the writer would refuse it too, but only when it got there). A file or
    link member whose own name is a symlink is fine (the new entry replaces the link, it is not
    followed); a directory member on a symlink is refused, as its contents would go through it."""
    checked: dict[str, bool] = {}
    for member in members:
        parts = [p for p in posixpath.normpath(member.name).split("/") if p not in ("", ".")]
        way = parts if member.type == "dir" else parts[:-1]
        for depth in range(1, len(way) + 1):
            here = "/".join(way[:depth])
            if here not in checked:
                checked[here] = os.path.islink(dest / here)
            if checked[here]:
                landing = os.path.realpath(dest / "/".join(way))
                raise UnsafeArchive(
                    f"refusing to extract {shown}: member {member.name!r} would land in {landing},"
                    f" through the symlink {here!r} in the destination",
                    "nothing was extracted; extraction never writes through a symlink",
                )


@contextmanager
def _member_errors(name: str, shown: str) -> Iterator[None]:
    """A failed write names its member; a symlink that appeared on the way (another process
    swapping a directory while we extract) stops the extraction, nothing written through it."""
    try:
        yield
    except SymlinkInTheWay as exc:
        raise UnsafeArchive(
            f"refusing to extract {shown}: member {name!r}: {exc.message}",
            "the extraction stopped there; nothing was written through it or outside the destination",
        ) from None
    except OSError as exc:
        if exc.errno is None:  # zlib and friends: corrupt_is_error words it
            raise
        raise OpshError(f"cannot extract member {name!r} of {shown}: {exc.strerror}") from None


def _set_directories(out: Confined, directories: list[_Directory], shown: str) -> None:
    """Directory modes and times last, deepest first, as tar and unzip do: a 500 directory
    could not have received its files if it had been made read-only first, and writing a file
    into a directory changes its mtime."""
    for directory in sorted(directories, key=lambda d: posixpath.normpath(d.name).count("/"), reverse=True):
        with _member_errors(directory.name, shown):
            out.set_dir(posixpath.normpath(directory.name), directory.mode, directory.mtime)


def _extract_zip(
    session: Session, path: Path, shown: str, dest: Path, wanted: list[str], keep_special: int
) -> tuple[int, int]:
    with open_zip(path) as zf:
        infos = zf.infolist()
        picked = [
            i for i, keep in zip(infos, _selected([i.filename for i in infos], wanted, shown), strict=True) if keep
        ]
        members = [_with_target(zf, i) for i in picked]
        check_members(members, shown)
        total = sum(m.size for m in members if m.type == "file")
        directories: list[_Directory] = []
        with _destination(dest, members, shown) as out, session.progress(total, f"extracting {shown}", unit="B") as bar:
            for info, member in zip(picked, members, strict=True):
                mode = restored_mode(member.mode, keep_special) if _has_unix_mode(info) else None
                mtime = member.mtime.timestamp() if member.mtime else None
                with _member_errors(member.name, shown):
                    _write_zip_member(zf, info, member, out, bar, 0o644 if mode is None else mode)
                if member.type == "dir":
                    directories.append(_Directory(member.name, mode, mtime))
            _set_directories(out, directories, shown)
    return len(picked), total


def _has_unix_mode(info: zipfile.ZipInfo) -> bool:
    """Only a zip made on Unix (Info-ZIP, zipfile, opsh) stores permission bits."""
    return info.create_system == 3 and bool(info.external_attr >> 16)


def _with_target(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Member:
    member = _zip_member(info)
    if member.type != "link":
        return member
    if info.file_size > 4096:
        return Member(member.name, "other", member.size, member.mode, member.mtime, "")
    target = zf.read(info).decode("utf-8", errors="replace")
    return Member(member.name, "link", member.size, member.mode, member.mtime, target)


def _write_zip_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: Member, out: Confined, bar: Progress, mode: int
) -> None:
    """One member; directories get their mode and time at the end (`_set_directories`)."""
    name = posixpath.normpath(member.name)
    if member.type == "dir":
        out.make_dir(name)
        return
    if member.type == "link":
        out.make_symlink(name, member.target)
        return

    def fill(dst: IO[bytes]) -> None:
        with zf.open(info) as src:  # a CRC error raises at the end: the file never appears
            copy_stream(src, dst, bar)

    out.write_file(name, fill, mode, member.mtime.timestamp() if member.mtime else None)


class ArchiveCommand(Command):
    name = "archive"
    area = AREA
    summary = "create, list and extract tar, tar.gz, tar.bz2, tar.xz and zip archives"
    subcommands = (ArchiveCreate, ArchiveList, ArchiveExtract)
    examples = (
        "archive create logs.tar.gz /var/log/nginx",
        "archive list logs.tar.gz",
        "archive extract logs.tar.gz --to /tmp/logs",
    )


# ================================================================ gzip, gunzip


class GzipCommand(Command):
    name = "gzip"
    area = AREA
    summary = "compress files to FILE.gz (streamed; the original goes unless --keep)"
    params = (
        arg("files", Kind.PATH, multiple=True),
        opt("-k", "--keep", help="keep the original file"),
        opt("-l", "--level", kind=Kind.INT, default=6, metavar="N", help="1 fastest ... 9 smallest"),
        opt("-f", "--force", help="overwrite an existing .gz"),
    )
    examples = ("gzip app.log", "gzip -k -l 9 dump.sql", "gzip *.log")

    def run(self, session: Session, args: Args) -> Result:
        level = _level(args.level, 1, 9)
        targets = expand_paths(session, args.files)
        plans = [(t, Path(f"{t.path}.gz")) for t in targets]
        for target, out in plans:
            if target.path.suffix == ".gz":
                raise UsageError(f"gzip: {target.shown} already ends in .gz")
            _check_plan(target, out, args.force)
        before = after = 0
        with session.progress(sum(t.path.stat().st_size for t in targets), "gzip", unit="B") as bar:
            for target, out in plans:
                before += target.path.stat().st_size
                _compress(target.path, out, level, bar)
                after += out.stat().st_size
                if not args.keep:
                    target.path.unlink()
        ratio = f" ({100 - round(100 * after / before)}% smaller)" if after < before else ""
        return Result.empty(status=f"{Size(before).human()} -> {Size(after).human()}{ratio}")


def _check_plan(target: Target, out: Path, force: bool) -> None:
    if not target.path.is_file():
        raise UsageError(f"{target.shown} is not a regular file")
    if out.exists() and not force:
        raise OpshError(f"{out.name} already exists", "use -f to overwrite it")


def _compress(src: Path, out: Path, level: int, bar: Progress) -> None:
    import gzip

    st = src.stat()
    with replaced_at_end(out) as temp:
        with (
            open(src, "rb") as plain,
            open(temp, "wb") as raw,
            gzip.GzipFile(src.name, "wb", level, raw, mtime=int(st.st_mtime)) as packed,
        ):
            copy_stream(plain, packed, bar)
        os.chmod(temp, stat.S_IMODE(st.st_mode))
        os.utime(temp, (st.st_atime, st.st_mtime))


class GunzipCommand(Command):
    name = "gunzip"
    area = AREA
    summary = "decompress FILE.gz (or .tgz to .tar), streamed; the .gz goes unless --keep"
    params = (
        arg("files", Kind.PATH, multiple=True),
        opt("-k", "--keep", help="keep the compressed file"),
        opt("-f", "--force", help="overwrite an existing output file"),
    )
    examples = ("gunzip app.log.gz", "gunzip -k dump.sql.gz", "gunzip *.gz")

    def run(self, session: Session, args: Args) -> Result:
        targets = expand_paths(session, args.files)
        plans = [(t, _gunzip_name(t)) for t in targets]
        for target, out in plans:
            _check_plan(target, out, args.force)
        written = 0
        with session.progress(sum(t.path.stat().st_size for t in targets), "gunzip", unit="B") as bar:
            for target, out in plans:
                with corrupt_is_error(target.shown):
                    written += _decompress(target.path, out, bar)
                if not args.keep:
                    target.path.unlink()
        return Result.empty(status=f"wrote {Size(written).human()} to {', '.join(o.name for _, o in plans)}")


def _gunzip_name(target: Target) -> Path:
    path = target.path
    if path.suffix == ".gz" and len(path.name) > 3:
        return path.with_suffix("")
    if path.suffix == ".tgz":
        return path.with_suffix(".tar")
    raise UsageError(f"gunzip: {target.shown} does not end in .gz or .tgz")


def _decompress(src: Path, out: Path, bar: Progress) -> int:
    import gzip

    st = src.stat()
    with replaced_at_end(out) as temp:
        with open(src, "rb") as raw, gzip.GzipFile(fileobj=raw) as packed, open(temp, "wb") as plain:
            written, seen = 0, 0
            while chunk := packed.read(CHUNK):
                plain.write(chunk)
                written += len(chunk)
                bar.advance(raw.tell() - seen)
                seen = raw.tell()
        os.chmod(temp, stat.S_IMODE(st.st_mode))
        os.utime(temp, (st.st_atime, st.st_mtime))
    return written


COMMANDS = (ArchiveCommand, GzipCommand, GunzipCommand)
