"""Every expected failure, and the one place that turns any exception into a message.

Commands raise OpshError subclasses; libraries raise their own exceptions. `describe()` maps
both to the single line the user sees, so the wording of errors is decided here and nowhere
else. Messages pass through `redact()` so a secret inside an exception text never reaches the
screen.
"""

from __future__ import annotations

import errno
import re
import sys
from dataclasses import dataclass

from opsh.shell.redact import redact


class OpshError(Exception):
    """An expected failure: printed as `error: <message> (<hint>)`, never with a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(OpshError):
    """The line itself is wrong (unknown option, missing argument, bad value)."""

    exit_code = 2


class NotFound(OpshError):
    """A named thing (command, handle, file, key, host) does not exist."""


class ConnectError(OpshError):
    """A connection could not be opened or was lost."""


class ConnectionLost(ConnectError):
    """A handle's connection failed during a command: it was dropped, and the next command
    opens a new one (see Handle.connection_guard)."""


class AuthError(ConnectError):
    """The server refused the credentials."""


class BackendError(OpshError):
    """The server answered with an error (SQL error, Redis error reply...)."""


class ConfirmationRequired(OpshError):
    """A dangerous action was not confirmed (declined, or no terminal and no --yes)."""


class Cancelled(OpshError):
    """The user interrupted the command with Ctrl-C."""

    exit_code = 130


class ReadOnly(OpshError):
    """A write was refused because the handle is tagged readonly."""


def swallowed(what: str) -> None:
    """Call inside an `except` block that deliberately goes on: with `--debug` the exception
    is logged (logger `opsh`, to stderr) instead of vanishing; otherwise nothing is shown.

    Cleanup paths (closing a socket that is already gone, a pager that quit) must not turn
    into errors for the user, but a developer chasing a bug needs to see them.
    """
    import logging

    logging.getLogger("opsh").debug("ignored while %s", what, exc_info=True)


def enable_debug_log() -> None:
    """`--debug`: swallowed exceptions and opsh's own debug lines go to stderr (other
    libraries' loggers keep their level, so paramiko's chatter stays out)."""
    import logging

    logger = logging.getLogger("opsh")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("debug: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


@dataclass(frozen=True)
class Described:
    """What the user is told about a failure."""

    message: str
    hint: str | None
    exit_code: int
    expected: bool

    def line(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return _shorten_long_words(redact(text))


_LONG_WORD = re.compile(r"\S{201,}")


def _shorten_long_words(text: str) -> str:
    """A 5000-digit argument quoted back in full is not a clear error line: such a word keeps
    its start and end and says how long it was."""
    return _LONG_WORD.sub(lambda m: f"{m.group()[:100]}...({len(m.group())} characters)...{m.group()[-20:]}", text)


def describe(exc: BaseException) -> Described:
    """Turn any exception into the message shown to the user; `expected` False means a bug."""
    if isinstance(exc, OpshError):
        return Described(exc.message, exc.hint, exc.exit_code, True)
    if isinstance(exc, KeyboardInterrupt):
        return Described("cancelled", None, 130, True)
    for matcher in (_describe_os_error, _describe_library_error):
        found = matcher(exc)
        if found is not None:
            return found
    return Described(
        f"internal error: {type(exc).__name__}: {exc}",
        "run with --debug for the traceback",
        1,
        False,
    )


_OS_MESSAGES = {
    errno.ENOENT: "no such file or directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EEXIST: "already exists",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "not a directory",
    errno.ENOTEMPTY: "directory not empty",
    errno.ECONNREFUSED: "connection refused",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "timed out",
    errno.ENOSPC: "no space left on device",
    errno.EXDEV: "cross-device link",
    errno.ESRCH: "no such process",
}


def _describe_os_error(exc: BaseException) -> Described | None:
    if isinstance(exc, ValueError) and str(exc).startswith("embedded null"):
        # What os.* and open() say of a path with a NUL in it (a typed Ctrl-@, a pasted blob).
        return Described("a file name cannot contain a NUL character", None, 2, True)
    if isinstance(exc, TimeoutError) and not getattr(exc, "errno", None):
        return Described("timed out", None, 1, True)
    socket = sys.modules.get("socket")  # a gaierror can only exist once socket is imported
    if socket is not None and isinstance(exc, socket.gaierror):
        return Described(f"cannot resolve host name ({exc.strerror})", None, 1, True)
    if isinstance(exc, UnicodeDecodeError):
        return Described("not text: the data is not valid UTF-8", "is it a binary file?", 1, True)
    if not isinstance(exc, OSError):
        return None
    what = _OS_MESSAGES.get(exc.errno or -1) or exc.strerror or str(exc)
    if exc.filename is not None:
        what = f"{what}: {exc.filename}"
        if exc.filename2 is not None:
            what += f" -> {exc.filename2}"
    return Described(what, None, 1, True)


# Library exceptions are recognised by the module that defines them, so that describing an
# error never imports a driver the session has not used yet.
_LIBRARY_PREFIXES = {
    "pymysql": "mysql",
    "sqlite3": "sqlite",
    "redis": "redis",
    "pymongo": "mongodb",
    "bson": "mongodb",
    "paramiko": "ssh",
    "pymemcache": "memcache",
    "tarantool": "tarantool",
    "tarfile": "archive",
    "zipfile": "archive",
    "gzip": "gzip",
    "zlib": "compression",
    "lzma": "compression",
    "_lzma": "compression",
    "bz2": "compression",
    "_bz2": "compression",
    "_compression": "compression",
    "tomllib": "config",
}


def _describe_library_error(exc: BaseException) -> Described | None:
    module = type(exc).__module__ or ""
    root = module.split(".")[0]
    area = _LIBRARY_PREFIXES.get(root)
    if area is None and isinstance(exc, EOFError):
        # gzip/bz2/lzma raise a bare EOFError on truncated data; anything else is a cut-off stream.
        area = "compression" if "compress" in str(exc) or "end-of-stream" in str(exc) else "unexpected end of data"
    if area is None:
        return None
    if root == "pymysql" and len(exc.args) >= 2 and isinstance(exc.args[0], int):
        # Server messages quote the statement, newlines included: keep the error on one line.
        return Described(f"mysql {exc.args[0]}: {' '.join(str(exc.args[1]).split())}", None, 1, True)
    if root == "sqlite3" and getattr(exc, "sqlite_errorname", None):
        return Described(f"sqlite {exc.sqlite_errorname}: {' '.join(str(exc).split())}", None, 1, True)  # type: ignore[attr-defined]
    if root == "pymongo":
        return _describe_mongo(exc)
    if root == "tarantool":
        return _describe_tarantool(exc)
    if root == "paramiko":
        return _describe_paramiko(exc)
    if root == "pymemcache":
        # pymemcache puts the server's bytes in its messages: show them as text, not b'...'.
        text = " ".join(a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in exc.args)
        text = re.sub(r"\bb'([^']*)'", r"'\1'", text) or type(exc).__name__
        return Described(f"memcache: {text}", None, 1, True)
    text = str(exc) or type(exc).__name__
    return Described(f"{area}: {text}", None, 1, True)


def _describe_mongo(exc: BaseException) -> Described:
    """`mongodb 11000: E11000 duplicate key ...`: the server's code and message, not pymongo's dump."""
    details = getattr(exc, "details", None) or {}
    write_errors = details.get("writeErrors") if isinstance(details, dict) else None
    if write_errors:
        first = write_errors[0]
        more = f" (and {len(write_errors) - 1} more)" if len(write_errors) > 1 else ""
        return Described(f"mongodb {first.get('code')}: {first.get('errmsg')}{more}", None, 1, True)
    code = getattr(exc, "code", None)
    message = details.get("errmsg") if isinstance(details, dict) else None
    message = message or str(exc).split(", full error:")[0]
    hint = None
    if code == 13:
        hint = "the server wants a user: connect mongodb://USER@HOST:PORT/DB"
    prefix = f"mongodb {code}" if code is not None else "mongodb"
    return Described(f"{prefix}: {message}", hint, 1, True)


def _describe_tarantool(exc: BaseException) -> Described:
    """`tarantool 32: eval:1: boom`: the server's error code and text, not the args tuple."""
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    args = cause.args
    if len(args) >= 2 and isinstance(args[0], int):
        return Described(f"tarantool {args[0]}: {args[1]}", None, 1, True)
    return Described(f"tarantool: {args[0] if args else type(exc).__name__}", None, 1, True)


def _describe_paramiko(exc: BaseException) -> Described:
    name = type(exc).__name__
    text = str(exc) or name
    if name == "ChannelException":
        detail = exc.args[1] if len(exc.args) > 1 else text
        return Described(f"ssh: the server refused a channel ({detail})", "MaxSessions reached?", 1, True)
    if "protocol banner" in text:
        return Described("ssh: no SSH banner", "is it an SSH server? is it overloaded?", 1, True)
    if name == "ProxyCommandFailure":
        return Described(f"ssh: proxy command failed: {text}", None, 1, True)
    if name == "SFTPError":
        return Described(f"sftp: {text}", "is the sftp subsystem enabled on the server?", 1, True)
    return Described(f"ssh: {text}", None, 1, True)
