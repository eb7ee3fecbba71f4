"""How `edit` works: fetch, edit a private copy, show the diff, ask, write back atomically.

The copy lives in a directory of its own (mode 0700) under the system's temporary directory,
named like the file so the editor picks its syntax; the directory goes as soon as the editor
exits, and on any error or Ctrl-C. While the editor runs opsh ignores Ctrl-C (the editor
gets it, as git does for its editor).

Writing back, on a host or here, is the same sequence: check the file still has the hash it
had when it was read (else refuse and show what changed there, keeping the edited text in a
file beside the session), write a temporary file in the same directory, give it the old
file's owner and mode, check its hash (a connection cut mid-way must not install half a
file), keep the old file as PATH~ (a hard link, so it keeps its owner and mode too), rename
the new one over PATH. On a host that sequence is a small POSIX sh script run in one exec
channel, under sudo with `--sudo` (sudo.py answers it without a terminal); a symlink is
followed, so the file it points to is edited, as editors do.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import select
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from opsh.commands.shared.editor import edit_copy
from opsh.shell.errors import NotFound, OpshError, UsageError
from opsh.shell.result import Result, StyledLine
from opsh.shell.spec import Args

if TYPE_CHECKING:
    from paramiko import Channel

    from opsh.commands.ssh.hosts.hostspec import HostSpec
    from opsh.commands.ssh.transport.conn import ConnectOptions
    from opsh.shell.session import Session

MAX_SIZE = 64 * 1024 * 1024  # more than anyone edits by hand; refused rather than held in memory
RECV = 65536


@dataclass
class Snapshot:
    """The file as it was read: what was edited and what the write checks against."""

    content: bytes
    path: str  # the file itself (a symlink resolved): what is written back

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class Side(Protocol):
    """Where the file is: on a host or here."""

    label: str

    def read(self) -> Snapshot: ...

    def write(self, content: bytes, old: Snapshot, backup: bool) -> bytes | None:
        """Install `content`; None when written, else the file's current content (it changed
        since `old` was read, and nothing was written)."""
        ...


def edit(session: Session, args: Args) -> Result:
    host, path = split_location(args.file)
    if host is None and (args.sudo or args.user or args.sudo_password_env):
        raise UsageError("--sudo is for a host's file (HOST:PATH)", "run opsh itself with sudo for a local one")
    if args.user and not args.sudo:
        raise UsageError("--user goes with --sudo", f"edit {args.file} --sudo --user {args.user}")
    side: Side = LocalFile(session, path) if host is None else RemoteFile(session, host, path, args)
    before = side.read()
    edited = edit_copy(session, before.content, posixpath_name(before.path))
    if edited == before.content:
        return Result.empty(status=f"no changes: {side.label} left as it was")
    show(session, diff_lines(before.content, edited, f"{side.label} (as read)", f"{side.label} (edited)"))
    session.confirm(f"Write these changes to {side.label}?")
    now = side.write(edited, before, not args.no_backup)
    if now is not None:
        kept = keep_edited(session, posixpath_name(before.path), edited)
        show(session, diff_lines(before.content, now, f"{side.label} (as read)", f"{side.label} (now)"))
        raise OpshError(
            f"{side.label} changed while you edited it (the diff above): nothing written",
            f"your version is in {kept}",
        )
    backup = f", the previous one is {before.path}~" if not args.no_backup else ""
    return Result.empty(status=f"wrote {side.label}{backup}")


def split_location(text: str) -> tuple[str | None, str]:
    """scp's rule: `HOST:PATH` when a colon comes before any slash (`./a:b` is local);
    `user@host:` and `[v6addr]:` work too."""
    depth = 0
    for index, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "/" and depth == 0:
            break
        elif char == ":" and depth == 0 and index > 0:
            path = text[index + 1 :]
            if not path:
                raise UsageError(f"no path after {text}", f"e.g. {text}/etc/hosts")
            return text[:index], path
    return None, text


def posixpath_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or "file"


# ---------------------------------------------------------------- showing


def diff_lines(old: bytes, new: bytes, old_label: str, new_label: str) -> list[StyledLine]:
    """A unified diff, coloured like git's (the renderer drops colours off a terminal)."""
    a = old.decode("utf-8", "replace").splitlines()
    b = new.decode("utf-8", "replace").splitlines()
    out: list[StyledLine] = []
    for line in difflib.unified_diff(a, b, old_label, new_label, lineterm=""):
        if line.startswith(("---", "+++")):
            out.append([("bold", line)])
        elif line.startswith("@@"):
            out.append([("host", line)])
        elif line.startswith("+"):
            out.append([("ok", line)])
        elif line.startswith("-"):
            out.append([("error", line)])
        else:
            out.append(line)
    if old.endswith(b"\n") != new.endswith(b"\n"):
        out.append([("dim", "(the two differ in the newline at the end)")])
    return out


def show(session: Session, lines: list[StyledLine]) -> None:
    """Mid-command output (before the question) through the one renderer."""
    session.engine.emit(Result.of_stream(lines), None, None, [])


def keep_edited(session: Session, name: str, content: bytes) -> Path:
    """The edited text, kept beside the session (a new file, readable by the user alone)."""
    for n in range(1, 100):
        candidate = session.cwd / (f"{name}.edited" if n == 1 else f"{name}.edited.{n}")
        try:
            descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(descriptor, "wb") as out:
            out.write(content)
        return candidate
    raise OpshError(f"could not keep your version in {session.cwd}", "too many NAME.edited files there")


# ---------------------------------------------------------------- a local file


class LocalFile:
    def __init__(self, session: Session, path: str) -> None:
        self.path = session.path(path)
        self.label = path

    def read(self) -> Snapshot:
        real = self.path.resolve()
        if not real.exists():
            raise NotFound(f"no such file: {self.label}", "edit opens an existing file: create it first")
        if not real.is_file():
            raise UsageError(f"not a regular file: {self.label}")
        if real.stat().st_size > MAX_SIZE:
            raise OpshError(f"{self.label} is too big to edit here ({real.stat().st_size} bytes)")
        return Snapshot(real.read_bytes(), str(real))

    def write(self, content: bytes, old: Snapshot, backup: bool) -> bytes | None:
        target = Path(old.path)
        now = target.read_bytes()
        if hashlib.sha256(now).hexdigest() != old.digest:
            return now
        info = target.stat()
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.opsh-", dir=target.parent)
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(content)
                if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
                    _keep_owner(out.fileno(), info.st_uid, info.st_gid, self.label)
                os.fchmod(out.fileno(), info.st_mode & 0o7777)
                out.flush()
                os.fsync(out.fileno())
            if backup:
                _link_backup(target)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return None


def _keep_owner(descriptor: int, uid: int, gid: int, label: str) -> None:
    try:
        os.fchown(descriptor, uid, gid)
    except PermissionError:
        raise OpshError(f"cannot keep the owner of {label} (uid {uid})", "it belongs to another user") from None


def _link_backup(target: Path) -> None:
    """PATH~ is the old file itself (a second name for it), replaced if it existed."""
    backup = target.with_name(target.name + "~")
    staged = target.with_name(f".{target.name}~.opsh-{os.getpid()}")
    staged.unlink(missing_ok=True)
    try:
        os.link(target, staged)
    except OSError:
        shutil.copy2(target, staged)
    os.replace(staged, backup)


# ---------------------------------------------------------------- a host's file

# `sh -c READ sh PATH`: the file's real path on a line, then its bytes.
READ = r"""
f=$(readlink -f -- "$1" 2>/dev/null) || f=$1
[ -e "$f" ] || { echo "no such file" >&2; exit 11; }
[ -f "$f" ] || { echo "not a regular file" >&2; exit 12; }
[ -r "$f" ] || { echo "permission denied (--sudo reads it as root)" >&2; exit 13; }
printf '%s\n' "$f"
exec cat -- "$f"
"""

# `sh -c WRITE sh PATH OLD_SHA256 NEW_SHA256 BACKUP`, the new content on stdin. Exit 3: the
# file changed (its current bytes follow on stdout); other failures say what on stderr.
WRITE = r"""
f=$1
fail() { echo "$1" >&2; exit 4; }
have=$(sha256sum < "$f") || fail "cannot read it to check for changes"
if [ "${have%% *}" != "$2" ]; then cat -- "$f"; exit 3; fi
dir=$(dirname -- "$f"); base=$(basename -- "$f")
tmp=$(mktemp "$dir/.$base.opsh-XXXXXX") || fail "cannot create a file in $dir (--sudo writes as root)"
trap 'rm -f -- "$tmp"' EXIT
trap 'exit 130' HUP INT TERM
cat > "$tmp" || fail "cannot write the new version (disk full?)"
new=$(sha256sum < "$tmp")
[ "${new%% *}" = "$3" ] || fail "the new version arrived incomplete"
chown "$(stat -c %u -- "$f")" -- "$tmp" 2>/dev/null || fail "cannot keep its owner, $(stat -c %U -- "$f") (--sudo can)"
chgrp "$(stat -c %g -- "$f")" -- "$tmp" 2>/dev/null || fail "cannot keep its group, $(stat -c %G -- "$f") (--sudo can)"
chmod "$(stat -c %a -- "$f")" -- "$tmp" || fail "cannot keep its mode"
if [ "$4" = 1 ]; then
  ln -f -- "$f" "$f~" 2>/dev/null || cp -p -- "$f" "$f~" || fail "cannot keep the backup $f~ (--no-backup skips it)"
fi
mv -f -- "$tmp" "$f" || fail "cannot rename the new version into place"
trap - EXIT
"""


class RemoteFile:
    def __init__(self, session: Session, host: str, path: str, args: Args) -> None:
        self.session = session
        self.host = host
        self.path = path[2:] if path.startswith("~/") else path  # the login directory is the start
        self.label = f"{host}:{path}"
        self.sudo = bool(args.sudo)
        self.user: str | None = args.user
        self.password_env: str | None = args.sudo_password_env
        self.accept_new = bool(args.accept_new)
        self.target: tuple[HostSpec, ConnectOptions] | None = None  # resolved on first use
        self.key: tuple[str, str, int] = ("", host, 22)

    def read(self) -> Snapshot:
        status, out, err = self._run(READ, [self.path], None)
        if status != 0:
            raise self._failure(status, err)
        real, _, content = out.partition(b"\n")
        if len(content) > MAX_SIZE:
            raise OpshError(f"{self.label} is too big to edit here")
        return Snapshot(content, real.decode("utf-8", "surrogateescape"))

    def write(self, content: bytes, old: Snapshot, backup: bool) -> bytes | None:
        digest = hashlib.sha256(content).hexdigest()
        status, out, err = self._run(WRITE, [old.path, old.digest, digest, "1" if backup else "0"], content)
        if status == 3:
            return out
        if status != 0:
            raise self._failure(status, err)
        return None

    def _failure(self, status: int | None, err: bytes) -> OpshError:
        words = err.decode("utf-8", "replace").strip().splitlines()
        why = words[-1] if words else f"exit {status}" if status is not None else "killed by a signal"
        return OpshError(f"{self.label}: {why}")

    def _target(self) -> tuple[HostSpec, ConnectOptions]:
        if self.target is None:
            from opsh.commands.ssh.hosts.lookup import specs_for
            from opsh.commands.ssh.transport import setup
            from opsh.commands.ssh.transport.prompting import Prompter

            session = self.session
            spec = specs_for(session, [self.host])[self.host]
            setup.prepare_keys(session, [spec])
            options = setup.connect_options(session, Prompter(session), session.timeout, self.accept_new)
            self.target = (spec, options)
            self.key = (spec.user, spec.hostname, spec.port)
        return self.target

    def _run(self, script: str, words: list[str], stdin: bytes | None) -> tuple[int | None, bytes, bytes]:
        """(exit status, stdout, stderr) of `sh -c script` on the host, as root with --sudo."""
        from opsh.commands.ssh import sudo

        command = shlex.join(["sh", "-c", script, "sh", *words])
        markers = sudo.Markers()
        if self.sudo:
            command = sudo.sudo_command(command, markers, self.user)
        from opsh.commands.ssh.state import ssh_state
        from opsh.commands.ssh.transport.conn import held_transport

        with held_transport(ssh_state(self.session), *self._target()) as transport:  # one exchange each
            channel = transport.open_session(timeout=self.session.timeout)
            try:
                channel.exec_command(command)
                err = b""
                if self.sudo:
                    source = sudo.PasswordSource(self.session, self.key, self.password_env)
                    err = sudo.authenticate(channel, sudo.SudoDialog(markers), source, self.session.timeout)
                if stdin:
                    channel.sendall(stdin)
                channel.shutdown_write()
                out, more = _read_all(channel)
                return _status(channel), out, err + more
            finally:
                channel.close()


def _read_all(channel: Channel) -> tuple[bytes, bytes]:
    out: list[bytes] = []
    err: list[bytes] = []
    size = 0
    while True:
        while channel.recv_ready():
            out.append(channel.recv(RECV))
            size += len(out[-1])
        while channel.recv_stderr_ready():
            err.append(channel.recv_stderr(RECV))
        if size > MAX_SIZE + 4096:
            raise OpshError("the file is too big to edit here")
        if (channel.eof_received or channel.closed) and not channel.recv_ready() and not channel.recv_stderr_ready():
            return b"".join(out), b"".join(err)
        select.select([channel], [], [], 0.1)


def _status(channel: Channel) -> int | None:
    while not channel.exit_status_ready() and not channel.closed:
        channel.status_event.wait(0.1)
    status = channel.recv_exit_status() if channel.exit_status_ready() else -1
    return None if status == -1 else status
