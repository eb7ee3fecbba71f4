"""One host's share of `copy`: SFTP push or pull of files and directory trees.

Files are streamed in 32 KiB chunks through pipelined SFTP writes (or prefetched reads),
hashed on the way, so `--verify` only has to ask the server for its own sha256 (one
`sha256sum` per batch of files; reading the file back over SFTP when the server has no
sha256sum). Each chunk is reported to the fan-out (the progress bar) and checks for Ctrl-C.
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
from opsh.commands.ssh.exec.outcome import HostResult
from opsh.commands.ssh.exec.remote import RemoteCommand
from opsh.commands.ssh.transport.conn import ConnectOptions, pooled_transport
from opsh.shell.errors import BackendError, Cancelled, UsageError, describe, swallowed

if TYPE_CHECKING:
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


def _temporary(final: str) -> str:
    """Where a file is written until it is complete (then renamed over `final`): a cut or
    cancelled copy never leaves a truncated file under the final name."""
    import secrets

    head, tail = posixpath.split(final)
    return posixpath.join(head, f".{tail}.opsh-{secrets.token_hex(4)}.part")


class PartialFile(BackendError):
    """A copy was cut off mid-file; says where the partial data is (or that it was removed)."""


# ---------------------------------------------------------------- push


def push_to_host(plan: CopyPlan, job: Job) -> HostResult:
    return _on_host(plan, job, _push)


def _push(plan: CopyPlan, job: Job, sftp: Any, result: HostResult) -> list[tuple[str, str]]:
    """(remote path, local sha256) of every file sent."""
    sent: list[tuple[str, str]] = []
    for item, target in _push_targets(sftp, plan):
        _check(job)
        if item.is_dir:
            _remote_mkdir(sftp, target, item.mode)
            continue
        if item.link is not None:
            _remote_symlink(sftp, item.link, target)
            _count(result, 0)
            continue
        digest = _send(sftp, item, target, plan, job)
        sent.append((target, digest))
        _count(result, item.size)
    result.detail["skipped"] = list(plan.skipped)
    return sent


def _count(result: HostResult, size: int) -> None:
    """Files and bytes counted as each one is complete, so a copy cut short reports them."""
    result.detail["files"] = result.detail.get("files", 0) + 1
    result.detail["bytes"] = result.detail.get("bytes", 0) + size


def _on_host(
    plan: CopyPlan, job: Job, transfer: Callable[[CopyPlan, Job, Any, HostResult], list[tuple[str, str]]]
) -> HostResult:
    """One host's copy over its own SFTP channel: a failure becomes this host's error."""
    result = HostResult(job.target)
    result.detail.update(files=0, bytes=0, skipped=[])
    spec = plan.specs[job.target]
    sftp = pooled_transport(plan.state, spec, plan.options).open_sftp_client()
    result.reached = True
    try:
        done = transfer(plan, job, sftp, result)
        if plan.verify:
            _verify(plan, spec, sftp, done, job)
            result.detail["verified"] = True
        result.exit = 0
        if result.detail["skipped"]:
            result.exit = 1
            result.error = "not copied: " + ", ".join(result.detail["skipped"])
    except Cancelled:
        result.error = "cancelled"
    except Exception as exc:  # noqa: BLE001 - reported for this host
        result.error = describe(exc).message
    finally:
        try:
            sftp.close()
        except Exception:  # noqa: BLE001 - the connection may be gone already
            swallowed("closing an SFTP session")
    return result


def _push_targets(sftp: Any, plan: CopyPlan) -> list[tuple[LocalItem, str]]:
    dest = remote_path(plan.dest)
    dest_is_dir = _remote_isdir(sftp, dest)
    several = len(plan.roots) > 1
    if several and not dest_is_dir:
        if not plan.dest.endswith("/"):
            raise UsageError(f"{plan.dest}: not a directory (several sources)", "end it with / to create it")
        _remote_mkdir(sftp, dest, 0o755)
        dest_is_dir = True
    out: list[tuple[LocalItem, str]] = []
    for item in plan.items:
        root, _, rest = item.relative.partition("/")
        if dest_is_dir:
            target = posixpath.join(dest, item.relative)
        elif plan.dest.endswith("/"):
            _remote_mkdir(sftp, dest, 0o755)
            dest_is_dir = True
            target = posixpath.join(dest, item.relative)
        else:
            target = posixpath.join(dest, rest) if rest else dest  # the copy takes the name `dest`
        out.append((item, target))
    return out


def _send(sftp: Any, item: LocalItem, target: str, plan: CopyPlan, job: Job) -> str:
    """Written under a temporary name, renamed over `target` once complete."""
    digest = hashlib.sha256()
    temporary = _temporary(target)
    sent = 0
    try:
        with open(item.path, "rb") as source, sftp.file(temporary, "wb") as remote:
            remote.set_pipelined(True)
            while chunk := source.read(CHUNK):
                _check(job)
                remote.write(chunk)
                sent += len(chunk)
                digest.update(chunk)
                job.progress(len(chunk))
        sftp.chmod(temporary, item.mode & 0o777)
        if plan.preserve:
            sftp.utime(temporary, (item.mtime, item.mtime))
        sftp.posix_rename(temporary, target)
    except BaseException as exc:
        left = _remove_remote(sftp, temporary)
        if isinstance(exc, Cancelled | KeyboardInterrupt):
            raise
        why = describe(exc).message
        where = f"; the partial file stays on the host as {temporary}" if left else " (the partial file was removed)"
        raise PartialFile(f"{target}: {why} after sending {sent} of {item.size} bytes{where}") from None
    return digest.hexdigest()


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


def _remote_isdir(sftp: Any, path: str) -> bool:
    try:
        return stat.S_ISDIR(sftp.stat(path).st_mode or 0)
    except OSError:
        swallowed(f"checking whether {path} is a remote directory (taken as no)")
        return False


def _remote_mkdir(sftp: Any, path: str, mode: int) -> None:
    if _remote_isdir(sftp, path):
        return
    try:
        sftp.mkdir(path, mode & 0o777)
    except OSError as exc:
        raise BackendError(f"cannot create {path}: {describe(exc).message}") from None


# ---------------------------------------------------------------- pull


def pull_from_host(plan: CopyPlan, job: Job) -> HostResult:
    return _on_host(plan, job, _pull)


def _pull(plan: CopyPlan, job: Job, sftp: Any, result: HostResult) -> list[tuple[str, str]]:
    """(local path, remote file's sha256) of every file received."""
    dest = Path(plan.dest)
    if plan.many_hosts:
        dest = dest / job.target.rpartition("@")[2]
        dest.mkdir(parents=True, exist_ok=True)
    received: list[tuple[str, str]] = []
    for source in plan.sources:
        into_dir = len(plan.sources) > 1 or plan.many_hosts
        received += _pull_one(sftp, remote_path(source), dest, plan, job, result, into_dir)
    return received


def _pull_one(
    sftp: Any, source: str, dest: Path, plan: CopyPlan, job: Job, result: HostResult, into_dir: bool
) -> list[tuple[str, str]]:
    try:
        info = sftp.stat(source)
    except OSError as exc:
        raise BackendError(f"{job.target}:{source}: {describe(exc).message}") from None
    name = posixpath.basename(source.rstrip("/")) or "home"
    is_dir = stat.S_ISDIR(info.st_mode or 0)
    if is_dir and not plan.recursive:
        raise UsageError(f"{source} is a directory", "add -r to copy it with its contents")
    if into_dir or dest.is_dir() or plan.dest.endswith("/"):
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / name
    else:
        target = dest
    if not is_dir:
        return [(source, _receive(sftp, source, target, info, plan, job, result))]
    return _pull_tree(sftp, source, target, info, plan, job, result)


def _pull_tree(
    sftp: Any, source: str, target: Path, info: Any, plan: CopyPlan, job: Job, result: HostResult
) -> list[tuple[str, str]]:
    target.mkdir(parents=True, exist_ok=True)
    target.chmod((info.st_mode or 0o755) & 0o777 | 0o700)
    received: list[tuple[str, str]] = []
    for entry in sorted(sftp.listdir_attr(source), key=lambda e: e.filename):
        _check(job)
        child, local = posixpath.join(source, entry.filename), target / entry.filename
        mode = entry.st_mode or 0
        if stat.S_ISLNK(mode):
            if not plan.follow:
                _local_symlink(sftp.readlink(child), local)
                _count(result, 0)
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
    temporary = Path(_temporary(str(target)))
    got = 0
    try:
        with sftp.open(source, "rb") as remote, open(temporary, "wb") as out:
            remote.prefetch(info.st_size, 64)
            while chunk := remote.read(CHUNK):
                _check(job)
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
        raise PartialFile(
            f"{source}: {describe(exc).message} after {got} of {info.st_size} bytes (the partial copy was removed)"
        ) from None
    _count(result, got)
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
        transport = pooled_transport(plan.state, spec, plan.options)
        command = RemoteCommand(transport, "sha256sum -- " + " ".join(map(shlex.quote, batch)))
        lines: list[str] = []
        try:
            while not command.done:
                _check(job)
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
        remote.prefetch(None, 64)
        while chunk := remote.read(CHUNK):
            _check(job)
            digest.update(chunk)
    return digest.hexdigest()


def _check(job: Job) -> None:
    if job.cancelled():
        raise Cancelled("cancelled")
