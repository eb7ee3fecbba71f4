"""One host's share of `copy`: SFTP push or pull of files and directory trees.

Files are streamed in 32 KiB chunks through pipelined SFTP writes (or pipelined reads,
sftpread.py), hashed on the way, so `--verify` only has to ask the server for its own sha256
(one `sha256sum` per batch of files; reading the file back over SFTP when the server has no
sha256sum). Each chunk is reported to the fan-out (the progress bar) and checks for Ctrl-C.

A connection that dies mid-way is said as such: `connection to HOST lost`, with what was
being done, the partial file left on the host or removed, and the files that did arrive.
With `--sudo` the files go through a private staging directory and are installed by sudo
(rootcopy.py).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsh.commands.shared.fanout.control import Job
from opsh.commands.ssh.copy import sftpread
from opsh.commands.ssh.exec.outcome import HostResult
from opsh.commands.ssh.exec.remote import RemoteCommand
from opsh.commands.ssh.transport.conn import ConnectOptions, held_transport
from opsh.shell.errors import BackendError, Cancelled, UsageError, describe, swallowed

if TYPE_CHECKING:
    from paramiko import Transport

    from opsh.commands.ssh.exec.fleetsudo import FleetSudo
    from opsh.commands.ssh.hosts.hostspec import HostSpec
    from opsh.commands.ssh.state import SshState

CHUNK = 32768
VERIFY_BATCH = 100


@dataclass
class Location:
    """`host:path` (hosts may be a target expression) or a local path."""

    hosts: str | None
    path: str


def parse_location(text: str) -> Location:
    """scp's rule: a colon before any slash makes it remote (`./a:b` is local)."""
    depth = 0
    for index, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "/" and depth == 0:
            break
        elif ch == ":" and depth == 0:
            if index == 0:
                break
            return Location(text[:index], text[index + 1 :])
    return Location(None, text)


@dataclass
class LocalItem:
    """A file, directory or symlink to push, with its path relative to the copy's root."""

    path: Path
    relative: str
    is_dir: bool
    size: int = 0
    mode: int = 0o644
    mtime: float = 0.0
    link: str | None = None  # a symlink copied as a symlink: where it points


@dataclass
class CopyPlan:
    direction: str  # "push" | "pull"
    sources: list[str]  # remote paths (pull)
    items: list[LocalItem]  # push: what to send
    roots: list[LocalItem]  # push: the sources themselves
    dest: str
    recursive: bool
    preserve: bool
    verify: bool
    state: SshState
    options: ConnectOptions
    specs: dict[str, HostSpec]
    many_hosts: bool = False
    follow: bool = False  # -L: copy what symlinks point to instead of the links
    skipped: list[str] = field(default_factory=list)  # push: local entries that cannot be sent
    local_hashes: dict[str, str] = field(default_factory=dict)
    sudo: FleetSudo | None = None  # --sudo: written (or read) as root, through sudo
    owner: str | None = None  # --owner USER[:GROUP] of what --sudo installs (default: root)
    mode: int | None = None  # --mode of the files --sudo installs (default: the source's)


def local_items(
    paths: list[Path], recursive: bool, follow: bool = False
) -> tuple[list[LocalItem], list[LocalItem], list[str]]:
    """(every file, directory and symlink to send, the sources, what cannot be sent and why)
    for a push; read once, before fan-out. The sources themselves are followed (as cp does
    with its arguments); inside a tree symlinks stay symlinks unless `follow`."""
    items: list[LocalItem] = []
    roots: list[LocalItem] = []
    skipped: list[str] = []
    for path in paths:
        try:
            info = path.stat()
        except OSError as exc:
            raise UsageError(f"{path}: {describe(exc).message}") from None
        root = _item(path, path.name, info)
        roots.append(root)
        if not root.is_dir:
            if not stat.S_ISREG(info.st_mode):
                raise UsageError(f"{path} is a {_kind(info.st_mode)}, not a file", "copy regular files and directories")
            items.append(root)
            continue
        if not recursive:
            raise UsageError(f"{path} is a directory", "add -r to copy it with its contents")
        items.append(root)
        _walk(path, path.name, follow, items, skipped, {(info.st_dev, info.st_ino)})
    return items, roots, skipped


def _walk(
    folder: Path, relative: str, follow: bool, items: list[LocalItem], skipped: list[str], seen: set[tuple[int, int]]
) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        skipped.append(f"{relative} ({describe(exc).message})")
        return
    for entry in entries:
        child, name = Path(entry.path), posixpath.join(relative, entry.name)
        try:
            info = os.stat(child) if follow else os.lstat(child)
        except OSError:
            skipped.append(f"{name} (dangling symlink)")
            continue
        mode = info.st_mode
        if stat.S_ISLNK(mode):
            items.append(LocalItem(child, name, False, 0, 0o777, info.st_mtime, link=os.readlink(child)))
        elif stat.S_ISDIR(mode):
            if (info.st_dev, info.st_ino) in seen:
                skipped.append(f"{name} (symlink loop)")
                continue
            items.append(_item(child, name, info))
            _walk(child, name, follow, items, skipped, seen | {(info.st_dev, info.st_ino)})
        elif stat.S_ISREG(mode):
            items.append(_item(child, name, info))
        else:
            skipped.append(f"{name} ({_kind(mode)})")


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"))
    for test, name in (*kinds, (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


def _item(path: Path, relative: str, info: os.stat_result) -> LocalItem:
    return LocalItem(path, relative, stat.S_ISDIR(info.st_mode), info.st_size, info.st_mode & 0o7777, info.st_mtime)


def remote_path(text: str) -> str:
    """`~/x` and `x` are relative to the login directory (where SFTP starts); `` is that dir."""
    if text in ("", "~", "~/"):
        return "."
    return text[2:] if text.startswith("~/") else text


def temporary_name(final: str) -> str:
    """Where a file is written until it is complete (then renamed over `final`): a cut or
    cancelled copy never leaves a truncated file under the final name."""
    import secrets

    head, tail = posixpath.split(final)
    return posixpath.join(head, f".{tail}.opsh-{secrets.token_hex(4)}.part")


class PartialFile(BackendError):
    """A copy was cut off mid-file: how far it got, and where the partial data is (or that it
    was removed); `cause` is what cut it."""

    def __init__(self, path: str, verb: str, done: int, size: int, left: str, cause: BaseException) -> None:
        self.path, self.verb, self.done, self.size, self.left, self.cause = path, verb, done, size, left, cause
        super().__init__(f"{path}: {describe(cause).message} after {self.progress}{left}")

    @property
    def progress(self) -> str:
        return f"{self.verb} {self.done} of {self.size} bytes"


# ---------------------------------------------------------------- push


def push_to_host(plan: CopyPlan, job: Job) -> HostResult:
    return on_host(plan, _push, job)


def _push(plan: CopyPlan, job: Job, sftp: Any, result: HostResult) -> list[tuple[str, str]]:
    """(remote path, local sha256) of every file sent."""
    sent: list[tuple[str, str]] = []
    for item, target in _push_targets(sftp, plan):
        check_cancel(job)
        if item.is_dir:
            _remote_mkdir(sftp, target, item.mode)
            continue
        if item.link is not None:
            _remote_symlink(sftp, item.link, target)
            count(result, 0)
            continue
        digest = send_file(sftp, item, target, plan, job)
        sent.append((target, digest))
        count(result, item.size)
    result.detail["skipped"] = list(plan.skipped)
    return sent


def count(result: HostResult, size: int) -> None:
    """Files and bytes counted as each one is complete, so a copy cut short reports them."""
    result.detail["files"] = result.detail.get("files", 0) + 1
    result.detail["bytes"] = result.detail.get("bytes", 0) + size


Transfer = Callable[[CopyPlan, Job, Any, HostResult], list[tuple[str, str]]]


def on_host(plan: CopyPlan, transfer: Transfer, job: Job) -> HostResult:
    """One host's copy over its own SFTP channel: a failure becomes this host's error."""
    result = HostResult(job.target)
    result.detail.update(files=0, bytes=0, skipped=[], stage="")
    with held_transport(plan.state, plan.specs[job.target], plan.options) as transport:
        sftp = transport.open_sftp_client()
        result.reached = True
        if plan.sudo is None:
            job.settle()  # connected: this host asks nothing more
        try:
            _copy_over(plan, transfer, job, sftp, result)
        except Cancelled:
            result.error = "cancelled"
        except Exception as exc:  # noqa: BLE001 - reported for this host
            result.error = failure(job.target, transport, exc, result)
        finally:
            try:
                sftp.close()
            except Exception:  # noqa: BLE001 - the connection may be gone already
                swallowed("closing an SFTP session")
    return result


def _copy_over(plan: CopyPlan, transfer: Transfer, job: Job, sftp: Any, result: HostResult) -> None:
    done = transfer(plan, job, sftp, result)
    if plan.verify and not result.detail.get("verified"):
        result.detail["stage"] = "while verifying the copies"
        _verify(plan, plan.specs[job.target], sftp, done, job)
        result.detail["verified"] = True
    result.exit = 0
    if result.detail["skipped"]:
        result.exit = 1
        result.error = "not copied: " + ", ".join(result.detail["skipped"])


def failure(host: str, transport: Transport, exc: BaseException, result: HostResult) -> str:
    """A host's copy that failed, in words: a lost connection says so, and what it left."""
    cause = exc.cause if isinstance(exc, PartialFile) else exc
    if not lost(transport, cause):
        return describe(exc).message
    if isinstance(exc, PartialFile):
        what = f" after {exc.progress} of {exc.path}; {exc.left.strip(' ();')}"
    else:
        what = f" {result.detail['stage']}" if result.detail.get("stage") else ""
    left = f"; {result.detail['left']}" if result.detail.get("left") else ""
    return f"connection to {host} lost{what}{left}; {arrived(result)}"


def lost(transport: Transport, exc: BaseException) -> bool:
    """Whether `exc` means the connection is gone (paramiko says it in many ways: EOFError,
    `Socket is closed`, `Server connection dropped`), rather than the server refusing."""
    from paramiko import SSHException

    if isinstance(exc, EOFError | SSHException | ConnectionError | TimeoutError):
        return True
    # paramiko's closed channel is an OSError without errno; so is an SFTP failure the server
    # reports (a rename it refused), which is no loss
    if isinstance(exc, OSError) and exc.errno is None and str(exc) == "Socket is closed":
        return True
    return not transport.is_active()


def arrived(result: HostResult) -> str:
    """What a cut copy did write: `2 files (1.5 KiB) were copied before`, or nothing."""
    files, size = result.detail.get("files", 0), result.detail.get("bytes", 0)
    if not files:
        return "nothing was copied"
    several = files != 1
    return f"{files} file{'s' if several else ''} ({size_text(size)}) {'were' if several else 'was'} copied before"


def size_text(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _push_targets(sftp: Any, plan: CopyPlan) -> list[tuple[LocalItem, str]]:
    make, out = push_layout(plan, remote_isdir(sftp, remote_path(plan.dest)))
    if make:
        _remote_mkdir(sftp, remote_path(plan.dest), 0o755)
    return out


def push_layout(plan: CopyPlan, dest_is_dir: bool) -> tuple[bool, list[tuple[LocalItem, str]]]:
    """(whether the destination directory must be made first, each item with its remote path):
    into DEST when it is a directory or ends with `/`, else the copy takes the name DEST."""
    dest = remote_path(plan.dest)
    if len(plan.roots) > 1 and not dest_is_dir and not plan.dest.endswith("/"):
        raise UsageError(f"{plan.dest}: not a directory (several sources)", "end it with / to create it")
    make = not dest_is_dir and plan.dest.endswith("/")
    out: list[tuple[LocalItem, str]] = []
    for item in plan.items:
        _, _, rest = item.relative.partition("/")
        if dest_is_dir or make:
            target = posixpath.join(dest, item.relative)
        else:
            target = posixpath.join(dest, rest) if rest else dest
        out.append((item, target))
    return make, out


def send_file(sftp: Any, item: LocalItem, target: str, plan: CopyPlan, job: Job) -> str:
    """Written under a temporary name, renamed over `target` once complete."""
    digest = hashlib.sha256()
    temporary = temporary_name(target)
    sent = 0
    try:
        with open(item.path, "rb") as source, sftp.file(temporary, "wb") as remote:
            remote.set_pipelined(True)
            while chunk := source.read(CHUNK):
                check_cancel(job)
                remote.write(chunk)
                sent += len(chunk)
                digest.update(chunk)
                job.progress(len(chunk))
        sftp.chmod(temporary, item.mode & 0o777)
        if plan.preserve:
            sftp.utime(temporary, (item.mtime, item.mtime))
    except BaseException as exc:
        left = _remove_remote(sftp, temporary)
        if isinstance(exc, Cancelled | KeyboardInterrupt):
            raise
        where = f"; the partial file stays on the host as {temporary}" if left else " (the partial file was removed)"
        raise PartialFile(target, "sending", sent, item.size, where, exc) from None
    _rename_into_place(sftp, temporary, target, item.size)
    return digest.hexdigest()


def _rename_into_place(sftp: Any, temporary: str, target: str, size: int) -> None:
    """The last step of a push. A cut here cannot tell whether the server renamed before the
    reply was lost, so the message names both places rather than guessing either."""
    try:
        sftp.posix_rename(temporary, target)
    except Exception as exc:  # noqa: BLE001 - reported with both names
        if not _remove_remote(sftp, temporary):  # the connection is alive: the host refused
            reason = describe(exc).message
            raise BackendError(f"{target}: the host would not rename the copy into place ({reason}); it was removed")
        where = f"; it was being renamed into place, so it is either complete as {target} or left as {temporary}"
        raise PartialFile(target, "sending", size, size, where, exc) from None


def _remove_remote(sftp: Any, path: str) -> bool:
    """Remove a partial upload; True when it could not be removed (the connection is gone)."""
    try:
        sftp.remove(path)
    except FileNotFoundError:
        return False
    except Exception:  # noqa: BLE001 - the connection died: the partial stays, and is reported
        swallowed(f"removing the partial upload {path}")
        return True
    return False


def _remote_symlink(sftp: Any, points_to: str, target: str) -> None:
    try:
        if stat.S_ISLNK(sftp.lstat(target).st_mode or 0):
            sftp.remove(target)
    except OSError:
        swallowed(f"checking for an old symlink at {target}")
    try:
        sftp.symlink(points_to, target)
    except OSError as exc:
        raise BackendError(f"cannot create the symlink {target}: {describe(exc).message}") from None


def remote_isdir(sftp: Any, path: str) -> bool:
    try:
        return stat.S_ISDIR(sftp.stat(path).st_mode or 0)
    except OSError:
        swallowed(f"checking whether {path} is a remote directory (taken as no)")
        return False


def _remote_mkdir(sftp: Any, path: str, mode: int) -> None:
    if remote_isdir(sftp, path):
        return
    try:
        sftp.mkdir(path, mode & 0o777)
    except OSError as exc:
        raise BackendError(f"cannot create {path}: {describe(exc).message}") from None


# ---------------------------------------------------------------- pull


def pull_from_host(plan: CopyPlan, job: Job) -> HostResult:
    return on_host(plan, _pull, job)


def _pull(plan: CopyPlan, job: Job, sftp: Any, result: HostResult) -> list[tuple[str, str]]:
    """(local path, remote file's sha256) of every file received."""
    dest = pull_dest(plan, job)
    received: list[tuple[str, str]] = []
    for source in plan.sources:
        into_dir = len(plan.sources) > 1 or plan.many_hosts
        received += _pull_one(sftp, remote_path(source), dest, plan, job, result, into_dir)
    return received


def pull_dest(plan: CopyPlan, job: Job) -> Path:
    """Where a host's files go: the destination, or a folder per host when pulling from many."""
    dest = Path(plan.dest)
    if plan.many_hosts:
        dest = dest / job.target.rpartition("@")[2]
        dest.mkdir(parents=True, exist_ok=True)
    return dest


def local_target(source: str, dest: Path, plan: CopyPlan, into_dir: bool) -> Path:
    """`dest` itself, or `dest/NAME` when it is (or is to be) a directory."""
    if into_dir or dest.is_dir() or plan.dest.endswith("/"):
        dest.mkdir(parents=True, exist_ok=True)
        return dest / (posixpath.basename(source.rstrip("/")) or "home")
    return dest


def _pull_one(
    sftp: Any, source: str, dest: Path, plan: CopyPlan, job: Job, result: HostResult, into_dir: bool
) -> list[tuple[str, str]]:
    result.detail["stage"] = f"while reading {source}"
    try:
        info = sftp.stat(source)
    except OSError as exc:
        raise BackendError(f"{job.target}:{source}: {describe(exc).message}") from None
    is_dir = stat.S_ISDIR(info.st_mode or 0)
    if is_dir and not plan.recursive:
        raise UsageError(f"{source} is a directory", "add -r to copy it with its contents")
    target = local_target(source, dest, plan, into_dir)
    if not is_dir:
        return [(source, _receive(sftp, source, target, info, plan, job, result))]
    return _pull_tree(sftp, source, target, info, plan, job, result)


def _pull_tree(
    sftp: Any, source: str, target: Path, info: Any, plan: CopyPlan, job: Job, result: HostResult
) -> list[tuple[str, str]]:
    target.mkdir(parents=True, exist_ok=True)
    target.chmod((info.st_mode or 0o755) & 0o777 | 0o700)
    received: list[tuple[str, str]] = []
    result.detail["stage"] = f"while listing {source}"
    for entry in sorted(sftp.listdir_attr(source), key=lambda e: e.filename):
        check_cancel(job)
        child, local = posixpath.join(source, entry.filename), target / entry.filename
        mode = entry.st_mode or 0
        if stat.S_ISLNK(mode):
            if not plan.follow:
                _local_symlink(sftp.readlink(child), local)
                count(result, 0)
                continue
            try:
                entry = sftp.stat(child)
            except OSError:
                result.detail["skipped"].append(f"{child} (dangling symlink)")
                continue
            mode = entry.st_mode or 0
        if stat.S_ISDIR(mode):
            received += _pull_tree(sftp, child, local, entry, plan, job, result)
        elif stat.S_ISREG(mode):
            received.append((child, _receive(sftp, child, local, entry, plan, job, result)))
        else:
            result.detail["skipped"].append(f"{child} ({_kind(mode)})")
    return received


def _local_symlink(points_to: str, local: Path) -> None:
    if local.is_symlink() or local.is_file():
        local.unlink()
    local.symlink_to(points_to)


def _receive(sftp: Any, source: str, target: Path, info: Any, plan: CopyPlan, job: Job, result: HostResult) -> str:
    """Written to a temporary name beside `target`, renamed once complete; removed if cut."""
    digest = hashlib.sha256()
    temporary = Path(temporary_name(str(target)))
    got = 0
    try:
        with sftp.open(source, "rb") as remote, open(temporary, "wb") as out:
            for chunk in sftpread.chunks(sftp, remote.handle, info.st_size or 0):
                check_cancel(job)
                out.write(chunk)
                got += len(chunk)
                digest.update(chunk)
                job.progress(len(chunk))
        temporary.chmod((info.st_mode or 0o644) & 0o777)
        if plan.preserve and info.st_mtime:
            os.utime(temporary, (info.st_atime or info.st_mtime, info.st_mtime))
        temporary.replace(target)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, Cancelled | KeyboardInterrupt):
            raise
        raise PartialFile(source, "receiving", got, info.st_size or 0, " (the partial copy was removed)", exc) from None
    count(result, got)
    return digest.hexdigest()


# ---------------------------------------------------------------- verification


def _verify(plan: CopyPlan, spec: HostSpec, sftp: Any, files: list[tuple[str, str]], job: Job) -> None:
    """The server's sha256 of each file must equal the one computed during the transfer."""
    remote = _remote_sums(plan, spec, [path for path, _ in files], job)
    for path, expected in files:
        actual = remote.get(path)
        if actual is None:
            actual = _read_back_sum(sftp, path, job)
        if actual != expected:
            raise BackendError(f"checksum mismatch for {path}: sent {expected[:12]}..., host has {actual[:12]}...")


def _remote_sums(plan: CopyPlan, spec: HostSpec, paths: list[str], job: Job) -> dict[str, str]:
    import shlex

    sums: dict[str, str] = {}
    for start in range(0, len(paths), VERIFY_BATCH):
        batch = paths[start : start + VERIFY_BATCH]
        lines: list[str] = []
        with held_transport(plan.state, spec, plan.options) as transport:
            command = RemoteCommand(transport, "sha256sum -- " + " ".join(map(shlex.quote, batch)))
            try:
                while not command.done:
                    check_cancel(job)
                    lines += [text for stream, text in command.read(0.1) if stream == "out"]
            finally:
                command.close()
        if command.exit_status != 0:
            return sums  # no sha256sum there (or a file vanished): read back instead
        for line, path in zip(lines, batch, strict=False):
            sums[path] = line.split()[0].lstrip("\\")
    return sums


def _read_back_sum(sftp: Any, path: str, job: Job) -> str:
    digest = hashlib.sha256()
    with sftp.open(path, "rb") as remote:
        for chunk in sftpread.chunks(sftp, remote.handle, remote.stat().st_size or 0):
            check_cancel(job)
            digest.update(chunk)
    return digest.hexdigest()


def check_cancel(job: Job) -> None:
    if job.cancelled():
        raise Cancelled("cancelled")
