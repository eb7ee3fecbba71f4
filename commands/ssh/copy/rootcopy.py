"""`copy --sudo`: files the login user may not write, or read, copied through sudo.

A push starts the installer as root first (so sudo's password is asked at once, not after a
long upload), then sends the files over SFTP into a private staging directory of the login
user's (mode 0700, in the login directory), then hands the installer the list. As `install`
would, each file is copied to a temporary name in its destination's directory, checked
against the sha256 computed while sending (a damaged copy is never installed), given its owner
(`--owner`, else root) and mode (`--mode`, else the source's), and renamed over the
destination; directories are made (when missing) and symlinks set the same way. The staging
directory is removed afterwards whatever happened, unless the connection is gone (the error
then names it).

A pull reads each file through `sudo cat`, after a line with its size, mode, time (and sha256
for --verify), into a temporary name beside the local destination, renamed once complete.
Directories are not pulled this way (-r is refused with --sudo).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import secrets
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsh.commands.ssh.copy.transfer import (
    CopyPlan,
    PartialFile,
    check_cancel,
    count,
    local_target,
    pull_dest,
    push_layout,
    remote_isdir,
    remote_path,
    send_file,
    temporary_name,
)
from opsh.commands.ssh.exec.remote import RECV, RemoteCommand
from opsh.shell.errors import BackendError, Cancelled, swallowed

if TYPE_CHECKING:
    from opsh.commands.shared.fanout.control import Job
    from opsh.commands.ssh.exec.outcome import HostResult


# `sh -c INSTALL sh`, as root. Its input: shell words, `OWNER` then entries `d MODE PATH`,
# `l POINTS_TO PATH`, `f MODE PATH STAGED SHA256 MTIME|-`; it prints `+` for each entry done.
INSTALL = r"""
fail() { printf '%s\n' "$*" >&2; exit 4; }
list=$(cat) || fail "the list of files did not arrive"
eval "set -- $list"
[ $# -gt 0 ] || exit 0
owner=$1; shift
part=
trap 'rm -f -- "$part"' EXIT
trap 'exit 130' HUP INT TERM
give() { [ -z "$owner" ] || chown -h -- "$owner" "$1" || fail "cannot give $1 to $owner"; }
while [ $# -gt 0 ]; do
  case $1 in
  d) [ -d "$3" ] || { mkdir -m "$2" -- "$3" || fail "cannot create $3"; give "$3"; }; shift 3 ;;
  l) ln -sfn -- "$2" "$3" || fail "cannot create the symlink $3"; give "$3"; echo +; shift 3 ;;
  f) dir=$(dirname -- "$3"); base=$(basename -- "$3")
     part=$(mktemp "$dir/.$base.opsh-XXXXXX") || fail "cannot create a file in $dir"
     cat -- "$4" > "$part" || fail "cannot write $3 (disk full?)"
     sum=$(sha256sum < "$part") && [ "${sum%% *}" = "$5" ] || fail "$3 arrived damaged: not installed"
     give "$part"
     chmod -- "$2" "$part" || fail "cannot set the mode of $3"
     [ "$6" = - ] || touch -m -d "@$6" -- "$part" || fail "cannot set the time of $3"
     mv -f -- "$part" "$3" || fail "cannot rename $3 into place"
     part=; echo +; shift 6 ;;
  *) fail "opsh sent a list the installer cannot read" ;;
  esac
done
"""

# `sh -c READ sh PATH VERIFY`, as root: `SIZE MODE MTIME SHA256|-` on a line, then the bytes.
READ = r"""
f=$1
[ -e "$f" ] || { echo "no such file" >&2; exit 11; }
[ -f "$f" ] || { echo "not a regular file (copy --sudo pulls files, not directories)" >&2; exit 12; }
info=$(stat -L -c '%s %a %Y' -- "$f") || exit 13
sum=-
if [ "$2" = 1 ]; then sum=$(sha256sum < "$f") || exit 13; sum=${sum%% *}; fi
printf '%s %s\n' "$info" "$sum"
exec cat -- "$f"
"""


# ---------------------------------------------------------------- push


def push_as_root(plan: CopyPlan, job: Job, sftp: Any, result: HostResult) -> list[tuple[str, str]]:
    """Staged as the login user, installed by sudo; every file's sha256 is checked there, so
    --verify has nothing left to do."""
    assert plan.sudo is not None
    transport = sftp.get_channel().get_transport()
    spec = plan.specs[job.target]
    result.detail["stage"] = "while starting sudo"
    installer = plan.sudo.start(job, transport, spec, shlex.join(["sh", "-c", INSTALL, "sh"]), plan.options.timeout)
    job.settle()  # sudo answered: this host asks nothing more
    stage = ""
    staged: list[str] = []
    try:
        stage = _stage_directory(sftp)
        entries = _stage_files(plan, job, sftp, result, stage, staged)
        result.detail["stage"] = "while installing the files with sudo"
        _install(installer, [plan.owner or "", *entries], job, result)
    finally:
        installer.close()
        _unstage(sftp, stage, staged, result)
    result.detail["verified"] = True
    return []


def _stage_directory(sftp: Any) -> str:
    """A new directory only the login user can enter, in the login directory (absolute)."""
    name = f".opsh-copy-{secrets.token_hex(6)}"
    sftp.mkdir(name, 0o700)
    return posixpath.join(sftp.normalize("."), name)


def _stage_files(plan: CopyPlan, job: Job, sftp: Any, result: HostResult, stage: str, staged: list[str]) -> list[str]:
    """Every file sent into `stage`; the installer's entries (shell words) in order."""
    make, layout = push_layout(plan, remote_isdir(sftp, remote_path(plan.dest)))
    words: list[str] = ["d", "0755", remote_path(plan.dest)] if make else []
    for item, target in layout:
        check_cancel(job)
        if item.is_dir:
            words += ["d", _octal(item.mode), target]
        elif item.link is not None:
            words += ["l", item.link, target]
        else:
            result.detail["stage"] = f"while sending {item.relative}"
            path = posixpath.join(stage, str(len(staged)))
            try:
                digest = send_file(sftp, item, path, plan, job)
            except PartialFile as cut:  # named by where it was going, not by its staged name
                raise PartialFile(target, cut.verb, cut.done, cut.size, cut.left, cut.cause) from None
            staged.append(path)
            words += ["f", _octal(plan.mode if plan.mode is not None else item.mode), target, path, digest]
            words.append(str(int(item.mtime)) if plan.preserve else "-")
    result.detail["sizes"] = [i.size for i, _ in layout if not i.is_dir]
    return words


def _octal(mode: int) -> str:
    return f"{mode & 0o7777:04o}"


def _install(installer: RemoteCommand, words: list[str], job: Job, result: HostResult) -> None:
    """The list goes to the installer's input; each `+` it prints is an entry in place."""
    installer.channel.sendall(" ".join(shlex.quote(word) for word in words).encode() + b"\n")
    installer.channel.shutdown_write()
    sizes: list[int] = result.detail.pop("sizes", [])
    errors: list[str] = []
    while not installer.done:
        if job.cancelled():
            installer.stop()
            raise Cancelled("cancelled")
        for stream, line in installer.read(0.1):
            if stream == "err":
                errors.append(line)
            elif line == "+":
                count(result, sizes.pop(0) if sizes else 0)
    if installer.exit_status != 0:
        why = errors[-1] if errors else installer.ending or f"the installer ended with {installer.exit_status}"
        raise BackendError(f"{why} (as root through sudo)")


def _unstage(sftp: Any, stage: str, staged: list[str], result: HostResult) -> None:
    """The staging directory removed; when it cannot be (the connection is gone), said."""
    if not stage:
        return
    try:
        for path in staged:
            try:
                sftp.remove(path)
            except FileNotFoundError:
                swallowed(f"removing the staged {path} (never complete)")
        for name in sftp.listdir(stage):  # partial uploads left by a cut send_file
            sftp.remove(posixpath.join(stage, name))
        sftp.rmdir(stage)
    except Exception:  # noqa: BLE001 - the connection died: what stays is reported
        swallowed(f"removing the staging directory {stage}")
        result.detail["left"] = f"the staged copies stay in {stage} on the host"


# ---------------------------------------------------------------- pull


def pull_as_root(plan: CopyPlan, job: Job, sftp: Any, result: HostResult) -> list[tuple[str, str]]:
    """Each source read through sudo; --verify compares with the host's own sha256 there."""
    assert plan.sudo is not None
    transport = sftp.get_channel().get_transport()
    spec = plan.specs[job.target]
    dest = pull_dest(plan, job)
    into_dir = len(plan.sources) > 1 or plan.many_hosts
    for source in plan.sources:
        source = remote_path(source)
        result.detail["stage"] = f"while reading {source} with sudo"
        line = shlex.join(["sh", "-c", READ, "sh", source, "1" if plan.verify else "0"])
        reader = plan.sudo.start(job, transport, spec, line, plan.options.timeout)
        job.settle()
        try:
            reader.channel.shutdown_write()
            _receive(reader, source, local_target(source, dest, plan, into_dir), plan, job, result)
        finally:
            reader.close()
    result.detail["verified"] = plan.verify
    return []


def _receive(reader: RemoteCommand, source: str, target: Path, plan: CopyPlan, job: Job, result: HostResult) -> None:
    """The header line, then the bytes into a temporary name beside `target`."""
    header, first = _header(reader, job, source)
    size, mode, mtime, expected = header
    temporary = Path(temporary_name(str(target)))
    digest = hashlib.sha256()
    got = 0
    try:
        with open(temporary, "wb") as out:
            body: bytes | None = first
            while body is not None:
                check_cancel(job)
                if body:
                    out.write(body)
                    digest.update(body)
                    got += len(body)
                    job.progress(len(body))
                body = _next(reader)
        _check_end(reader, source, got, size, digest.hexdigest(), expected)
        temporary.chmod(mode & 0o777)
        if plan.preserve:
            os.utime(temporary, (mtime, mtime))
        temporary.replace(target)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, Cancelled | KeyboardInterrupt | BackendError):
            raise
        raise PartialFile(source, "receiving", got, size, " (the partial copy was removed)", exc) from None
    count(result, got)


def _header(reader: RemoteCommand, job: Job, source: str) -> tuple[tuple[int, int, int, str], bytes]:
    """((size, mode, mtime, sha256 or -), the bytes after the line)."""
    data = b""
    while b"\n" not in data:
        check_cancel(job)
        more = _next(reader)
        if more is None:
            raise BackendError(f"{source}: {_said(reader) or 'the host sent nothing'}")
        data += more
    line, _, body = data.partition(b"\n")
    try:
        size, mode, mtime, expected = line.decode().split()
        return (int(size), int(mode, 8), int(mtime), expected), body
    except ValueError:
        raise BackendError(f"{source}: the host's reply was not understood: {line[:80]!r}") from None


def _next(reader: RemoteCommand) -> bytes | None:
    """The next bytes of the command's output (b"" when none came in a tenth of a second),
    None at its end. It waits as the command's own reading does (its Wakeup): select() on the
    channel would wait on paramiko's pipe, which no longer hears the channel once `began()`
    has taken its buffers back after sudo's dialog."""
    channel = reader.channel
    if channel.recv_ready():
        return bytes(channel.recv(RECV))
    if channel.eof_received or channel.closed:
        return None
    reader.wait(0.1)
    return bytes(channel.recv(RECV)) if channel.recv_ready() else b""


def _said(reader: RemoteCommand) -> str:
    """The last line the command wrote to stderr."""
    words = b""
    while reader.channel.recv_stderr_ready():
        words += reader.channel.recv_stderr(RECV)
    text = reader.early + words.decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _check_end(reader: RemoteCommand, source: str, got: int, size: int, digest: str, expected: str) -> None:
    """The output ended: `cat` must have said it read the whole file (exit 0)."""
    reader.channel.status_event.wait(5)
    if not reader.channel.exit_status_ready():  # the channel closed without a word: cut
        raise ConnectionError(f"the output ended after {got} of {size} bytes")
    status = reader.channel.recv_exit_status()
    if status != 0:
        raise BackendError(f"{source}: {_said(reader) or f'exit {status} after {got} of {size} bytes'}")
    if expected != "-" and digest != expected:
        raise BackendError(f"checksum mismatch for {source}: received {digest[:12]}..., host has {expected[:12]}...")
