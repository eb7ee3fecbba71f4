"""Local files: the os / shutil / glob / tempfile snippets of the study sheet as shell verbs.

Every path is taken relative to the session's directory (`cd` moves it, never the process's).
The shell does no wildcard expansion of its own, so commands that take several paths expand
`*`, `?`, `[...]` and `**` themselves; a pattern that matches nothing is an error, as in zsh.
Listings are tables whose sizes are `Size` values: human-readable on screen, exact bytes in
`--format json|csv|plain`. Nothing here follows a symlink out of a tree it walks or removes.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import glob
import io
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from opsh.commands.shared.paths import (
    Target,
    expand_paths,
    file_type,
    is_inside,
    one_path,
    open_regular,
    plural,
    read_bytes,
    timestamp,
)
from opsh.shell import kinds
from opsh.shell.errors import NotFound, OpshError, UsageError, swallowed
from opsh.shell.progress import BYTES, copy_with_progress
from opsh.shell.result import Result, Size, StyledLine
from opsh.shell.session import Session
from opsh.shell.spec import Args, Kind, arg, command, opt

AREA = "files"
SNIFF_BYTES = 8192
TEXT_INLINE_LIMIT = 4 * 1024 * 1024  # larger files are streamed instead of paged in one piece
BLOCK = 64 * 1024
MANY_PATHS = 10  # rm asks first above this many paths
COUNT_CAP = 100_000  # rm stops counting what a tree holds after this many entries
FOLLOW_POLL = 0.2


# ================================================================ shared helpers


@dataclass
class FilesState:
    """Per-session state of this area: where `cd -` goes back to."""

    previous: Path | None = None


@dataclass
class Owners:
    """uid/gid to names, looked up once per command (NSS lookups are slow on big listings)."""

    users: dict[int, str] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)

    def user(self, uid: int) -> str:
        if uid not in self.users:
            import pwd

            try:
                self.users[uid] = pwd.getpwuid(uid).pw_name
            except KeyError:
                self.users[uid] = str(uid)
        return self.users[uid]

    def group(self, gid: int) -> str:
        if gid not in self.groups:
            import grp

            try:
                self.groups[gid] = grp.getgrgid(gid).gr_name
            except KeyError:
                self.groups[gid] = str(gid)
        return self.groups[gid]


# ================================================================ ls, cd, pwd


_LONG_HEADERS = ["name", "type", "size", "mode", "owner", "group", "mtime", "target"]


@command(
    "ls",
    area=AREA,
    summary="list directories and files (-l: type, size, mode, owner, mtime)",
    params=(
        arg("paths", Kind.PATH, required=False, multiple=True, help="files or directories (default: .)"),
        opt("-l", "--long", help="size, mode, owner, group, mtime and link target"),
        opt("-a", "--all", help="include hidden entries (names starting with .)"),
        opt("-t", "--time", help="newest first"),
        opt("-S", "--by-size", help="largest first"),
        opt("-r", "--reverse", help="reverse the order"),
    ),
    examples=("ls", "ls -l /var/log", "ls -la ~", "ls -lS *.log", "ls -l --format json"),
)
def ls_cmd(session: Session, args: Args) -> Result:
    targets = expand_paths(session, args.paths or ["."])
    several = len(targets) > 1
    rows: list[list[Any]] = []
    owners = Owners()
    for target in targets:
        if target.path.is_dir():
            prefix = f"{target.shown.rstrip('/')}/" if several else ""
            for entry in _entries(target.path, args.all):
                rows.append(_ls_row(prefix + entry.name, Path(entry.path), owners))
        else:
            rows.append(_ls_row(target.shown, target.path, owners))
    rows = _sort_listing(rows, args)
    if not args.long:
        return Result.table(["name", "type"], [row[:2] for row in rows])
    return Result.table(_LONG_HEADERS, [row[:-1] for row in rows])


def _entries(directory: Path, hidden: bool) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as it:
        return [e for e in it if hidden or not e.name.startswith(".")]


def _ls_row(name: str, path: Path, owners: Owners) -> list[Any]:
    """Long-listing cells plus the mtime as a number (last) for sorting."""
    st = path.lstat()
    target = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
    return [
        name,
        file_type(st.st_mode),
        Size(st.st_size),
        stat.filemode(st.st_mode),
        owners.user(st.st_uid),
        owners.group(st.st_gid),
        timestamp(st.st_mtime),
        target,
        st.st_mtime,
    ]


def _sort_listing(rows: list[list[Any]], args: Args) -> list[list[Any]]:
    if args.time:
        rows.sort(key=lambda r: -r[-1])
    elif args.by_size:
        rows.sort(key=lambda r: -r[2])
    else:
        rows.sort(key=lambda r: (r[0].lower(), r[0]))
    if args.reverse:
        rows.reverse()
    return rows


@command(
    "cd",
    area=AREA,
    summary="change the session's directory (`cd -` goes back, `cd` alone goes home)",
    params=(arg("dir", Kind.DIR, required=False, help="directory, ~, or - for the previous one"),),
    examples=("cd /var/log", "cd ..", "cd -", "cd"),
)
def cd_cmd(session: Session, args: Args) -> Result:
    state = session.area(AREA, FilesState)
    before = session.cwd
    if args.dir == "-":
        if state.previous is None:
            raise NotFound("no previous directory", "`cd -` works after a first cd")
        session.chdir(str(state.previous))
        state.previous = before
        return Result.of_text(str(session.cwd))
    session.chdir(args.dir or str(Path.home()))
    state.previous = before
    return Result.empty(status=str(session.cwd))


@command("pwd", area=AREA, summary="the session's directory", examples=("pwd",))
def pwd_cmd(session: Session, args: Args) -> Result:
    return Result.of_text(str(session.cwd))


# ================================================================ cp, mv, rm


@dataclass
class _Tally:
    """Files and bytes done so far, for the progress bar and the status line."""

    files: int = 0
    bytes: int = 0


def _sources_and_dest(session: Session, paths: list[str], verb: str) -> tuple[list[Target], Path, bool]:
    """(sources, destination, whether sources go into the destination directory)."""
    if len(paths) < 2:
        raise UsageError(f"{verb}: need SRC... DST", f"e.g. {verb} a.txt b.txt backup/")
    *patterns, dest_text = paths
    sources = expand_paths(session, patterns)
    dest = session.path(dest_text)
    into = dest.is_dir()
    if dest_text.endswith("/") and not into:  # as in coreutils: `mv a missing/` is no rename
        raise OpshError(f"{verb}: {dest_text} is not a directory", "create it first: mkdir -p")
    if len(sources) > 1 and not into:
        raise UsageError(f"{verb}: {dest_text} is not a directory", "several sources need an existing directory")
    return sources, dest, into


@command(
    "cp",
    area=AREA,
    summary="copy files (and with -r directories), keeping mode and times",
    params=(
        arg("paths", Kind.PATH, multiple=True, metavar="SRC... DST", help="sources, then the destination"),
        opt("-r", "--recursive", help="copy directories with everything in them (symlinks stay symlinks)"),
    ),
    examples=("cp app.conf app.conf.bak", "cp *.log /tmp/logs/", "cp -r site /srv/site-old"),
)
def cp_cmd(session: Session, args: Args) -> Result:
    sources, dest, into = _sources_and_dest(session, args.paths, "cp")
    tally = _Tally()
    plain = all(s.path.is_file() for s in sources)
    total = sum(s.path.stat().st_size for s in sources) if plain else None
    with session.progress(total, "copying", unit=BYTES) as bar:

        def copy_file(src: str, dst: str) -> str:
            copy_with_progress(src, dst, bar)
            tally.files += 1
            tally.bytes += os.path.getsize(dst)
            bar.note = plural(tally.files, "file") if tally.files > 1 else ""
            return dst

        for source in sources:
            _copy_one(source, dest / source.path.name if into else dest, args.recursive, copy_file)
    return Result.empty(status=f"copied {plural(tally.files, 'file')} ({Size(tally.bytes).human()})")


def _copy_one(source: Target, target: Path, recursive: bool, copy_file: Callable[[str, str], str]) -> None:
    src = source.path
    if recursive and src.is_symlink():
        if target.is_symlink() or target.is_file():
            target.unlink()
        os.symlink(os.readlink(src), target)
        return
    if not src.is_dir():
        try:
            copy_file(str(src), str(target))
        except shutil.SameFileError:
            raise OpshError(f"cp: {source.shown} and {target} are the same file") from None
        return
    if not recursive:
        raise UsageError(f"cp: {source.shown} is a directory", "use cp -r")
    if is_inside(target, src):
        raise OpshError(f"cp: cannot copy {source.shown} into itself")
    shutil.copytree(src, target, symlinks=True, copy_function=copy_file, dirs_exist_ok=True)


@command(
    "mv",
    area=AREA,
    summary="move or rename files and directories",
    params=(arg("paths", Kind.PATH, multiple=True, metavar="SRC... DST", help="sources, then the destination"),),
    examples=("mv app.log app.log.1", "mv *.gz archive/", "mv build /tmp/"),
)
def mv_cmd(session: Session, args: Args) -> Result:
    sources, dest, into = _sources_and_dest(session, args.paths, "mv")
    for source in sources:
        target = dest / source.path.name if into else dest
        if source.path.is_dir() and not source.path.is_symlink() and is_inside(target, source.path):
            raise OpshError(f"mv: cannot move {source.shown} into itself")
        shutil.move(source.path, target)
    return Result.empty(status=f"moved {plural(len(sources), 'path')}")


@command(
    "rm",
    area=AREA,
    summary="remove files (-r: directories too); asks first for directories or many paths",
    params=(
        arg("paths", Kind.PATH, multiple=True, help="files, directories (with -r) or patterns"),
        opt("-r", "--recursive", help="remove directories and everything in them (symlinks are not followed)"),
        opt("-f", "--force", help="ignore paths that do not exist (still asks before removing directories)"),
    ),
    examples=("rm old.log", "rm *.tmp", "rm -r build/", "rm -rf cache --yes   # in a script"),
)
def rm_cmd(session: Session, args: Args) -> Result:
    targets = expand_paths(session, args.paths, missing_ok=args.force)
    for target in targets:
        _check_removable(session, target, args.recursive)
    trees = [t for t in targets if t.path.is_dir() and not t.path.is_symlink()]
    if trees or len(targets) > MANY_PATHS:
        session.confirm(_removal_question(targets, trees))
    for target in targets:
        if target in trees:
            shutil.rmtree(target.path)
        else:
            target.path.unlink()
    return Result.empty(status=f"removed {plural(len(targets), 'path')}")


def _check_removable(session: Session, target: Target, recursive: bool) -> None:
    path = target.path
    if path.is_symlink():
        return  # the link itself goes, never what it points to
    if path.is_dir() and not recursive:
        raise UsageError(f"rm: {target.shown} is a directory", "use rm -r, or rmdir for an empty one")
    if path.resolve() == Path(path.anchor) or os.path.basename(os.path.normpath(target.shown)) in (".", ".."):
        raise OpshError(f"rm: refusing to remove {target.shown}")
    if path.is_dir() and is_inside(session.cwd, path):
        raise OpshError(f"rm: refusing to remove {target.shown}: it holds the current directory", "cd elsewhere first")


def _removal_question(targets: list[Target], trees: list[Target]) -> str:
    files = len(targets) - len(trees)
    if not trees:
        return f"Remove {plural(files, 'file')}?"
    inside, total, capped = 0, 0, False
    for tree in trees:
        for entry in _walk(tree.path):
            inside += 1
            total += entry.stat(follow_symlinks=False).st_size if not entry.is_dir(follow_symlinks=False) else 0
            if inside >= COUNT_CAP:
                capped = True
                break
    names = ", ".join(t.shown for t in trees[:3]) + (" ..." if len(trees) > 3 else "")
    held = f"{'more than ' if capped else ''}{plural(inside, 'entry', 'entries')}"
    question = f"Remove {plural(len(trees), 'directory', 'directories')} ({names}: {held}, "
    question += f"{Size(total).human()})"
    if files:
        question += f" and {plural(files, 'file')}"
    return question + "?"


def _walk(root: Path) -> Iterator[os.DirEntry[str]]:
    """Every entry below `root`, depth first, never entering symlinked directories."""
    stack = [str(root)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            swallowed("listing a directory while counting what rm would remove")
            continue
        for entry in entries:
            yield entry
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)


# ================================================================ mkdir, rmdir, touch, ln, stat


@command(
    "mkdir",
    area=AREA,
    summary="create directories (-p: with parents, no error if they exist)",
    params=(
        arg("dirs", Kind.PATH, multiple=True),
        opt("-p", "--parents", help="create missing parents; an existing directory is fine"),
    ),
    examples=("mkdir logs", "mkdir -p /tmp/a/b/c"),
)
def mkdir_cmd(session: Session, args: Args) -> Result:
    for name in args.dirs:
        path = session.path(name)
        if args.parents:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.mkdir()
    return Result.empty(status=f"created {', '.join(args.dirs)}")


@command(
    "rmdir",
    area=AREA,
    summary="remove empty directories",
    params=(arg("dirs", Kind.DIR, multiple=True),),
    examples=("rmdir old",),
)
def rmdir_cmd(session: Session, args: Args) -> Result:
    for name in args.dirs:
        session.path(name).rmdir()
    return Result.empty(status=f"removed {', '.join(args.dirs)}")


@command(
    "touch",
    area=AREA,
    summary="create empty files, or set the times of existing ones to now",
    params=(
        arg("files", Kind.PATH, multiple=True),
        opt("-c", "--no-create", help="only touch files that exist"),
    ),
    examples=("touch marker", "touch a.txt b.txt"),
)
def touch_cmd(session: Session, args: Args) -> Result:
    for name in args.files:
        path = session.path(name)
        if path.exists():
            os.utime(path)
        elif not args.no_create:
            path.touch()
    return Result.empty()


@command(
    "ln",
    area=AREA,
    summary="make a link (-s: symbolic); LINK defaults to TARGET's name here",
    params=(
        arg("target", Kind.PATH, help="what the link points to (kept as typed for -s)"),
        arg("link", Kind.PATH, required=False, help="the link to create, or a directory to create it in"),
        opt("-s", "--symbolic", help="a symbolic link (else a hard link)"),
        opt("-f", "--force", help="replace an existing file or link"),
    ),
    examples=("ln -s /srv/app/releases/42 current", "ln -sf ../shared/config.yml config.yml", "ln data.db data.bak"),
)
def ln_cmd(session: Session, args: Args) -> Result:
    link = session.path(args.link or os.path.basename(args.target.rstrip("/")))
    if link.is_dir() and not link.is_symlink():
        link = link / os.path.basename(args.target.rstrip("/"))
    if os.path.lexists(link):
        if not args.force:
            raise OpshError(f"ln: {link} already exists", "use -f to replace it")
        if link.is_dir() and not link.is_symlink():
            raise OpshError(f"ln: {link} is a directory")
        link.unlink()
    if args.symbolic:
        os.symlink(args.target, link)
    else:
        os.link(session.path(args.target), link)
    return Result.empty(status=f"{link} -> {args.target}")


@command(
    "stat",
    area=AREA,
    summary="everything the file system knows about a path",
    params=(
        arg("path", Kind.PATH),
        opt("-L", "--follow", help="describe what a symlink points to, not the link"),
    ),
    examples=("stat /etc/hosts", "stat -L current", "stat app.log --format json"),
)
def stat_cmd(session: Session, args: Args) -> Result:
    target = one_path(session, args.path)
    st = target.path.stat() if args.follow else target.path.lstat()
    owners = Owners()
    pairs: list[tuple[str, Any]] = [
        ("path", str(target.path)),
        ("type", file_type(st.st_mode)),
        ("size", Size(st.st_size)),
        ("mode", f"{stat.S_IMODE(st.st_mode):04o}"),
        ("permissions", stat.filemode(st.st_mode)),
        ("owner", owners.user(st.st_uid)),
        ("uid", st.st_uid),
        ("group", owners.group(st.st_gid)),
        ("gid", st.st_gid),
        ("inode", st.st_ino),
        ("device", st.st_dev),
        ("links", st.st_nlink),
        ("blocks", st.st_blocks),
        ("atime", timestamp(st.st_atime)),
        ("mtime", timestamp(st.st_mtime)),
        ("ctime", timestamp(st.st_ctime)),
    ]
    if stat.S_ISLNK(st.st_mode):
        pairs.insert(2, ("target", os.readlink(target.path)))
    return Result.mapping(pairs)


# ================================================================ find, glob, tree, du


@dataclass
class _Walk:
    """What a lazy walk could not read, reported after its rows."""

    skipped: list[str] = field(default_factory=list)

    def summary(self) -> Result:
        if not self.skipped:
            return Result.empty()
        first = self.skipped[0]
        more = f" and {len(self.skipped) - 1} more" if len(self.skipped) > 1 else ""
        return Result.empty(status=f"could not read {first}{more}", failed=True)


_TYPE_CODES = {"f": "file", "d": "dir", "l": "link"}


@command(
    "find",
    area=AREA,
    summary="walk a tree and list what matches (name, type, size, age); rows stream as found",
    params=(
        arg("path", Kind.DIR, required=False, default=".", help="where to start"),
        opt("--name", kind=Kind.TEXT, metavar="GLOB", help="file name pattern, e.g. '*.log'"),
        opt("--type", kind=Kind.CHOICE, choices=("f", "d", "l"), help="f file, d directory, l symlink"),
        opt("--size", kind=Kind.TEXT, metavar="+N|-N|N", help="+1M larger than, -10k smaller than, 0 exactly"),
        opt("--newer", kind=Kind.TEXT, metavar="AGE|DATE|FILE", help="modified within 2d / 3h, or after a date/file"),
        opt("--older", kind=Kind.TEXT, metavar="AGE|DATE|FILE", help="modified more than 30d ago, or before"),
        opt("--maxdepth", kind=Kind.INT, metavar="N", help="descend at most N levels (1: only PATH's entries)"),
    ),
    examples=(
        "find /var/log --name '*.gz' --older 30d",
        "find --type f --size +100M",
        "find src --name '*.py' --newer 2d",
        "find . --type d --maxdepth 2",
        "find /etc --newer 2024-06-01 --format csv > changed.csv",
    ),
)
def find_cmd(session: Session, args: Args) -> Result:
    root = session.path(args.path)
    if not root.is_dir():
        raise NotFound(f"not a directory: {args.path}")
    if args.maxdepth is not None and args.maxdepth < 1:
        raise UsageError("--maxdepth must be at least 1 (1: only the entries of PATH)")
    test = _find_test(session, args)
    walk = _Walk()
    rows = _find_rows(root, args.path, args.maxdepth, test, walk)
    return Result.table(["path", "type", "size", "mtime"], rows, then=walk.summary)


Test = Callable[[os.DirEntry[str], os.stat_result], bool]


def _find_test(session: Session, args: Args) -> Test:
    tests: list[Test] = []
    if args.name:
        pattern = args.name
        tests.append(lambda e, st: fnmatch.fnmatchcase(e.name, pattern))
    if args.type:
        wanted = _TYPE_CODES[args.type]
        tests.append(lambda e, st: file_type(st.st_mode) == wanted)
    if args.size:
        tests.append(_size_test(args.size))
    if args.newer:
        after = _point_in_time(session, args.newer, "--newer")
        tests.append(lambda e, st: st.st_mtime > after)
    if args.older:
        before = _point_in_time(session, args.older, "--older")
        tests.append(lambda e, st: st.st_mtime < before)
    return lambda e, st: all(t(e, st) for t in tests)


def _size_test(text: str) -> Test:
    sign, number = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
    size = kinds.parse_size(number)
    if sign == "+":
        return lambda e, st: st.st_size > size
    if sign == "-":
        return lambda e, st: st.st_size < size
    return lambda e, st: st.st_size == size


def _point_in_time(session: Session, text: str, flag: str) -> float:
    """Epoch seconds from an age (`2d`, `3h`, `90m`), a date (`2024-06-01 12:00`) or a file's mtime."""
    try:
        return time.time() - kinds.parse_duration(text)
    except UsageError:
        pass
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        pass
    path = session.path(text)
    if path.exists():
        return path.stat().st_mtime
    raise UsageError(
        f"{flag}: {text!r} is not an age, a date or a file",
        "use e.g. 2d, 3h, 90m, 2024-06-01, '2024-06-01 12:00' or a file name",
    )


def _find_rows(root: Path, shown: str, maxdepth: int | None, test: Test, walk: _Walk) -> Iterator[list[Any]]:
    """Depth first, each directory's entries in name order, as find(1) walks (symlinks not entered)."""
    stack: list[tuple[list[os.DirEntry[str]], str, int]] = []
    _push_dir(stack, str(root), shown.rstrip("/") or "/", 1, walk)
    while stack:
        entries, label, depth = stack[-1]
        if not entries:
            stack.pop()
            continue
        entry = entries.pop()
        path = entry.name if label == "." else os.path.join(label, entry.name)
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            swallowed(f"reading {path} during find (it vanished or is unreadable)")
            continue
        if test(entry, st):
            yield [path, file_type(st.st_mode), Size(st.st_size), timestamp(st.st_mtime)]
        if stat.S_ISDIR(st.st_mode) and (maxdepth is None or depth < maxdepth):
            _push_dir(stack, entry.path, path, depth + 1, walk)


def _push_dir(
    stack: list[tuple[list[os.DirEntry[str]], str, int]], directory: str, label: str, depth: int, walk: _Walk
) -> None:
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name, reverse=True)  # pop() takes them in order
    except OSError as exc:
        walk.skipped.append(f"{label} ({exc.strerror})")
        return
    stack.append((entries, label, depth))


@command(
    "glob",
    area=AREA,
    summary="paths matching a shell pattern; ** matches any number of directories",
    params=(
        arg("pattern", Kind.PATH, help="e.g. '*.py', 'src/**/*.py', '/var/log/*.[0-9]'"),
        opt("-a", "--all", help="let * match hidden names too"),
    ),
    examples=("glob '*.log'", "glob '**/*.py'", "glob '/etc/*.conf' --format json"),
)
def glob_cmd(session: Session, args: Args) -> Result:
    pattern = os.path.expanduser(args.pattern)
    found = sorted(glob.glob(pattern, root_dir=session.cwd, recursive=True, include_hidden=args.all))
    rows = []
    for name in found:
        try:
            st = session.path(name).lstat()
        except OSError:
            swallowed(f"reading {name}, a glob match that vanished")
            continue
        rows.append([name, file_type(st.st_mode), Size(st.st_size), timestamp(st.st_mtime)])
    return Result.table(["path", "type", "size", "mtime"], rows, status=plural(len(rows), "match", "matches"))


@command(
    "tree",
    area=AREA,
    summary="a directory drawn as a tree (for data, use find --format json)",
    params=(
        arg("path", Kind.DIR, required=False, default=".", help="the top"),
        opt("--depth", kind=Kind.INT, metavar="N", help="show at most N levels"),
        opt("-a", "--all", help="include hidden entries"),
    ),
    examples=("tree", "tree /etc/nginx --depth 2", "tree -a ~/.config"),
)
def tree_cmd(session: Session, args: Args) -> Result:
    root = session.path(args.path)
    if not root.is_dir():
        raise NotFound(f"not a directory: {args.path}")
    if args.depth is not None and args.depth < 1:
        raise UsageError("--depth must be at least 1")
    counts = {"dir": 0, "file": 0}
    lines = [args.path, *_draw(root, args.depth, args.all, counts)]
    lines += ["", f"{plural(counts['dir'], 'directory', 'directories')}, {plural(counts['file'], 'file')}"]
    return Result.of_text("\n".join(lines))


def _draw(root: Path, max_depth: int | None, hidden: bool, counts: dict[str, int]) -> Iterator[str]:
    """Lines below `root`, depth first, with tree(1)'s connectors; iterative for deep trees."""
    stack: list[tuple[list[os.DirEntry[str]], str, int]] = []

    def push(directory: str, indent: str, depth: int) -> Iterator[str]:
        try:
            # reversed, so that pop() takes the next one in order
            entries = sorted(_entries(Path(directory), hidden), key=lambda e: (e.name.lower(), e.name), reverse=True)
        except OSError as exc:
            yield f"{indent}└── [cannot read: {exc.strerror}]"
            return
        stack.append((entries, indent, depth))

    yield from push(str(root), "", 1)
    while stack:
        entries, indent, depth = stack[-1]
        if not entries:
            stack.pop()
            continue
        entry = entries.pop()
        last = not entries
        is_dir = entry.is_dir(follow_symlinks=False)
        link = f" -> {os.readlink(entry.path)}" if entry.is_symlink() else ""
        yield f"{indent}{'└── ' if last else '├── '}{entry.name}{'/' if is_dir else ''}{link}"
        counts["dir" if is_dir else "file"] += 1
        if is_dir and (max_depth is None or depth < max_depth):
            yield from push(entry.path, indent + ("    " if last else "│   "), depth + 1)


@command(
    "du",
    area=AREA,
    summary="disk usage per directory, smallest first, the total last",
    params=(
        arg("paths", Kind.PATH, required=False, multiple=True, help="directories or files (default: .)"),
        opt("--depth", kind=Kind.INT, default=1, metavar="N", help="list directories down to N levels (0: totals)"),
        opt("--apparent", help="count file sizes, not the disk blocks they use"),
        opt("-x", "--one-file-system", help="do not cross into other mounted file systems"),
    ),
    examples=("du", "du /var --depth 2", "du * --depth 0", "du /srv --format json"),
)
def du_cmd(session: Session, args: Args) -> Result:
    if args.depth < 0:
        raise UsageError("--depth must be 0 or more")
    targets = expand_paths(session, args.paths or ["."])
    rows: list[list[Any]] = []
    walk = _Walk()
    totals = _Tally()
    with session.progress(None, "du") as bar:
        for target in targets:
            found = _usage(target, args.depth, args.apparent, args.one_file_system, walk, bar)
            rows += found[:-1]
            top = found[-1]
            totals.bytes += top[0]
            totals.files += top[1]
            rows.append(top)
    rows.sort(key=lambda r: (r[0], r[2]))
    if len(targets) > 1:
        rows.append([Size(totals.bytes), totals.files, "total"])
    summary = f"{Size(totals.bytes).human()} in {plural(totals.files, 'file')}"
    result = Result.table(["size", "files", "path"], rows, status=summary)
    result.then = walk.summary if walk.skipped else None
    return result


def _apparent_size(st: os.stat_result) -> int:
    return st.st_size


def _disk_size(st: os.stat_result) -> int:
    return st.st_blocks * 512


def _usage(target: Target, max_depth: int, apparent: bool, one_fs: bool, walk: _Walk, bar: Any) -> list[list[Any]]:
    """[size, files, path] for each directory down to max_depth; the target itself is last."""
    top = target.path.lstat()
    measure: Callable[[os.stat_result], int] = _apparent_size if apparent else _disk_size
    if not stat.S_ISDIR(top.st_mode):
        return [[Size(measure(top)), 1, target.shown]]
    seen: set[tuple[int, int]] = set()
    dirs: list[tuple[str, int, int]] = []  # (path, depth, parent index); children come after parents
    sizes: list[int] = []
    files: list[int] = []
    stack = [(str(target.path), 0, -1, measure(top))]
    while stack:
        path, depth, parent, own = stack.pop()
        index = len(dirs)
        dirs.append((path, depth, parent))
        sizes.append(own)
        files.append(0)
        bar.advance(1)
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError as exc:
            walk.skipped.append(f"{path} ({exc.strerror})")
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                swallowed(f"reading {entry.path} during du")
                continue
            if one_fs and st.st_dev != top.st_dev:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append((entry.path, depth + 1, index, measure(st)))
                continue
            if st.st_nlink > 1:
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
            sizes[index] += measure(st)
            files[index] += 1
    for index in range(len(dirs) - 1, 0, -1):
        parent = dirs[index][2]
        sizes[parent] += sizes[index]
        files[parent] += files[index]
    root = str(target.path)
    rows = [
        [Size(sizes[i]), files[i], os.path.normpath(os.path.join(target.shown, os.path.relpath(path, root)))]
        for i, (path, depth, _) in enumerate(dirs)
        if 0 < depth <= max_depth
    ]
    return [*rows, [Size(sizes[0]), files[0], target.shown]]


# ================================================================ cat, head, tail


class BinaryFile(OpshError):
    """Text commands refuse binary data instead of flooding the terminal with it."""


def _sniff(handle: BinaryIO, shown: str, size: int) -> None:
    head = handle.read(SNIFF_BYTES)
    handle.seek(0)
    if b"\0" in head:
        raise BinaryFile(f"{shown} is a binary file ({Size(size).human()})", f"`head --hex {shown}` shows its bytes")


def _open_text(session: Session, text: str, devices: bool = False) -> tuple[Target, BinaryIO]:
    """A regular file (a character device too with `devices`, for bounded reads): /dev/zero
    or a fifo must not be read line by line forever."""
    target = one_path(session, text)
    return target, open_regular(target.path, target.shown, devices=devices)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def hexdump(data: bytes, offset: int = 0) -> list[str]:
    """`hexdump -C` style lines: offset, 16 bytes in hex, printable ASCII."""
    lines = []
    for start in range(0, len(data), 16):
        chunk = data[start : start + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk[:8]) + "  " + " ".join(f"{b:02x}" for b in chunk[8:])
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset + start:08x}  {hexes:<49} |{text}|")
    return lines


@command(
    "cat",
    area=AREA,
    summary="show text files (binary files are refused; --hex dumps them)",
    params=(
        arg("files", Kind.PATH, multiple=True),
        opt("--hex", help="hexdump -C style dump instead of text"),
    ),
    examples=("cat /etc/hosts", "cat *.conf", "cat --hex blob.bin", "cat app.log | grep ERROR"),
)
def cat_cmd(session: Session, args: Args) -> Result:
    targets = expand_paths(session, args.files)
    total = 0
    for target in targets:
        with open_regular(target.path, target.shown) as handle:  # no directory, device or fifo
            size = os.fstat(handle.fileno()).st_size
            total += size
            if not args.hex:
                _sniff(handle, target.shown, size)
    if args.hex:
        return Result.of_stream(_hex_blocks(targets))
    if total <= TEXT_INLINE_LIMIT:
        try:  # /proc files say size 0: the bound is on what is read
            texts = [_decode(read_bytes(t.path, t.shown, limit=TEXT_INLINE_LIMIT)) for t in targets]
            return Result.of_text("".join(texts))
        except OpshError:
            swallowed("reading files whole for cat (larger than they said: streamed instead)")
    return Result.of_stream(_text_blocks(targets))


def _text_blocks(targets: list[Target]) -> Iterator[str]:
    """Whole lines in blocks of about BLOCK bytes (a stream writes each with a newline)."""
    pending = ""
    for target in targets:
        with io.TextIOWrapper(open_regular(target.path, target.shown), "utf-8", "replace", newline="") as handle:
            while block := handle.read(BLOCK):
                pending += block
                cut = pending.rfind("\n")
                if cut >= 0:
                    yield pending[:cut]
                    pending = pending[cut + 1 :]
    if pending:
        yield pending


def _hex_blocks(targets: list[Target]) -> Iterator[str]:
    for target in targets:
        with open_regular(target.path, target.shown) as handle:
            offset = 0
            while block := handle.read(BLOCK):
                yield "\n".join(hexdump(block, offset))
                offset += len(block)


@command(
    "head",
    area=AREA,
    summary="the first lines of text files (--hex: first bytes of any file)",
    params=(
        arg("files", Kind.PATH, multiple=True),
        opt("-n", "--lines", kind=Kind.INT, default=10, metavar="N", help="how many lines"),
        opt("--hex", help="hexdump of the first N*16 bytes"),
    ),
    examples=("head app.log", "head -n 50 /var/log/syslog", "head --hex -n 4 image.png"),
)
def head_cmd(session: Session, args: Args) -> Result:
    if args.lines < 0:
        raise UsageError("-n must be 0 or more")
    parts = []
    targets = expand_paths(session, args.files)
    for target in targets:
        parts.append(_head_one(session, target, args.lines, args.hex))
    return Result.of_text(_with_titles(targets, parts))


def _head_one(session: Session, target: Target, count: int, hex_: bool) -> str:
    found, handle = _open_text(session, target.shown, devices=hex_)  # --hex reads count*16 bytes
    with handle:
        if hex_:
            return "\n".join(hexdump(handle.read(count * 16)))
        _sniff(handle, found.shown, os.fstat(handle.fileno()).st_size)
        text = io.TextIOWrapper(handle, encoding="utf-8", errors="replace", newline="")
        return "".join(line for _, line in zip(range(count), text, strict=False))


def _with_titles(targets: list[Target], parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    blocks = [f"==> {t.shown} <==\n{p.rstrip(chr(10))}" for t, p in zip(targets, parts, strict=True)]
    return "\n\n".join(blocks)


@command(
    "tail",
    area=AREA,
    summary="the last lines of a text file; -f follows it (through truncation and rotation) until Ctrl-C",
    params=(
        arg("file", Kind.PATH),
        opt("-n", "--lines", kind=Kind.INT, default=10, metavar="N", help="how many lines"),
        opt("-f", "--follow", help="keep printing lines as they are written; Ctrl-C stops"),
    ),
    examples=("tail app.log", "tail -n 100 /var/log/syslog", "tail -f /var/log/nginx/access.log"),
)
def tail_cmd(session: Session, args: Args) -> Result:
    if args.lines < 0:
        raise UsageError("-n must be 0 or more")
    target, handle = _open_text(session, args.file)
    try:
        size = os.fstat(handle.fileno()).st_size
        _sniff(handle, target.shown, size)
        data = _last_lines(handle, args.lines)
    except BaseException:
        handle.close()
        raise
    if not args.follow:
        handle.close()
        return Result.of_text(_decode(data))
    stream = _follow(target, handle, data)
    return Result.of_stream(stream, then=lambda: Result.empty(status=f"stopped following {target.shown}"))


def _last_lines(handle: BinaryIO, count: int) -> bytes:
    """The last `count` lines, reading backwards from the end in blocks; leaves the file at its end."""
    end = handle.seek(0, os.SEEK_END)
    if count == 0:
        return b""
    position, data = end, b""
    while position > 0:
        step = min(BLOCK, position)
        position -= step
        handle.seek(position)
        data = handle.read(step) + data
        if data.count(b"\n", 0, len(data) - 1) >= count:
            break
    handle.seek(end)
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-count:])


def _follow(target: Target, handle: BinaryIO, start: bytes) -> Iterator[StyledLine]:
    """Lines as they arrive. A truncated file is read again from its start; a replaced one
    (logrotate's rename-and-create) is reopened once the old one has been read to its end."""
    opened = os.fstat(handle.fileno())
    pending = b""
    try:
        if start:
            yield _decode(start.removesuffix(b"\n"))
        while True:
            chunk = handle.read(BLOCK)
            if chunk:
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                if lines:
                    yield _decode(b"\n".join(lines))
                continue
            time.sleep(FOLLOW_POLL)
            note, handle, opened = _check_rotation(target, handle, opened)
            if note:
                pending = b""
                yield [("warn", f"--- {target.shown}: {note}")]
    except KeyboardInterrupt:
        return
    finally:
        handle.close()


def _check_rotation(target: Target, handle: BinaryIO, opened: os.stat_result) -> tuple[str, BinaryIO, os.stat_result]:
    try:
        now = os.stat(target.path)
    except FileNotFoundError:
        return "", handle, opened  # between rename and create: wait for the new file
    if (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
        handle.close()
        handle = open_regular(target.path, target.shown)  # closed by _follow
        return "replaced, following the new file", handle, os.fstat(handle.fileno())
    if now.st_size < handle.tell():
        handle.seek(0)
        return "truncated, reading from the start", handle, opened
    return "", handle, opened


# ================================================================ mktemp


@command(
    "mktemp",
    area=AREA,
    summary="create a private temporary file (or -d directory) and print its path",
    params=(
        opt("-d", "--directory", help="a directory instead of a file"),
        opt("--prefix", kind=Kind.TEXT, default="opsh-", metavar="P", help="name prefix"),
        opt("--suffix", kind=Kind.TEXT, default="", metavar="S", help="name suffix, e.g. .json"),
        opt("--dir", kind=Kind.DIR, metavar="DIR", help="where (default: $TMPDIR or /tmp)"),
        opt("--var", kind=Kind.TEXT, metavar="NAME", help="also store the path in the variable NAME"),
    ),
    examples=("mktemp", "mktemp -d --prefix build-", "mktemp -d --var work; cd ${work}"),
)
def mktemp_cmd(session: Session, args: Args) -> Result:
    import tempfile

    where = str(session.path(args.dir)) if args.dir else None
    if args.directory:
        path = tempfile.mkdtemp(prefix=args.prefix, suffix=args.suffix, dir=where)
    else:
        fd, path = tempfile.mkstemp(prefix=args.prefix, suffix=args.suffix, dir=where)
        os.close(fd)
    if args.var:
        session.set_variable(args.var, path)
    return Result.of_text(path)


COMMANDS = (
    ls_cmd,
    cd_cmd,
    pwd_cmd,
    cp_cmd,
    mv_cmd,
    rm_cmd,
    mkdir_cmd,
    rmdir_cmd,
    touch_cmd,
    ln_cmd,
    stat_cmd,
    find_cmd,
    glob_cmd,
    tree_cmd,
    du_cmd,
    cat_cmd,
    head_cmd,
    tail_cmd,
    mktemp_cmd,
)
