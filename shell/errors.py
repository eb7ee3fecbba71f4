"""Every expected failure, and the one place that turns any exception into a message.

Commands raise OpshError subclasses; libraries raise their own exceptions. `describe()` maps
both to the single line the user sees, so no other code turns an exception into a message. A
driver's exceptions are worded by its backend (an error table, below), so that the core names
no driver and a new backend brings its own. Messages pass through `redact()` so a secret inside
an exception text never reaches the screen.
"""

from __future__ import annotations

import errno
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TextIO

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


class ProtocolBroken(ConnectionError):
    """A reply that breaks the server's protocol, raised by a backend's own reader: nothing
    after it on that connection can be trusted, so the handle drops it as a lost connection
    (Handle.connection_guard) and says what was wrong."""


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

    @classmethod
    def failure(cls, message: str, hint: str | None = None) -> Described:
        """An expected failure (exit status 1), as every error table's entries describe one."""
        return cls(message, hint, 1, True)

    def line(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return _shorten_long_words(redact(text))


def for_stream(line: str, stream: TextIO) -> str:
    """An error, warning or status line as written to `stream`: at a terminal its control
    characters are made visible (a quoted file name cannot retitle the window or clear the
    screen, and the line stays one line); a log file or a pipe gets it exact."""
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    if not terminal:
        return line
    from opsh.shell.cells import visible

    return visible(line)


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
    for matcher in (_describe_os_error, _describe_driver_error, _describe_library_error):
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


# ---------------------------------------------------------------- drivers' errors
#
# A backend package lends the core the way its driver's exceptions read: its `errors.py` (the
# same role file name in every backend package) defines a module-level ERRORS table, {the
# driver's top-level module: function(exception) -> Described}, and the package's __init__
# imports it. The core names no driver: an exception is matched to a table by the name of the
# module that defines its class, so describing an error never imports a driver the session has
# not used. No table is registered anywhere: a driver's exception can only exist once the
# backend that calls the driver is loaded, and loading a backend package loads its table, so
# `describe()` finds the tables among the loaded modules (it is called from worker threads and
# from code that holds no Session, where the registry is out of reach).

Describer = Callable[[BaseException], Described]
ErrorTable = Mapping[str, Describer]
ROLE_MODULE = "errors"


def in_own_words(area: str, exc: BaseException) -> Described:
    """`area: text`: a library's exception as the library words it (its class name when the
    text is empty)."""
    return Described.failure(f"{area}: {str(exc) or type(exc).__name__}")


def _module_root(exc: BaseException) -> str:
    """The top-level module that defines the exception's class (`pymysql` for pymysql.err)."""
    return (type(exc).__module__ or "").split(".")[0]


def _describe_driver_error(exc: BaseException) -> Described | None:
    root = _module_root(exc)
    for table in loaded_error_tables():
        describer = table.get(root)
        if describer is not None:
            return describer(exc)
    return None


def loaded_error_tables() -> Iterator[ErrorTable]:
    """The ERRORS tables of the loaded `errors` modules of opsh's packages, by module name."""
    package = __name__.split(".")[0] + "."
    suffix = "." + ROLE_MODULE
    names = sorted(n for n in list(sys.modules) if n.startswith(package) and n.endswith(suffix))
    for name in names:
        table = getattr(sys.modules.get(name), "__dict__", {}).get("ERRORS")
        if isinstance(table, Mapping):
            yield table


# ---------------------------------------------------------------- the standard library's errors
#
# What opsh itself does with the standard library (archives, compressed files, the TOML config)
# fails in these modules' exceptions, recognised the same way, by their module's name.
_LIBRARY_PREFIXES = {
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
    area = _LIBRARY_PREFIXES.get(_module_root(exc))
    if area is None and isinstance(exc, EOFError):
        # gzip/bz2/lzma raise a bare EOFError on truncated data; anything else is a cut-off stream.
        area = "compression" if "compress" in str(exc) or "end-of-stream" in str(exc) else "unexpected end of data"
    if area is None:
        return None
    return in_own_words(area, exc)
