"""How paramiko's exceptions read: `ssh: no SSH banner (is it an SSH server? is it
overloaded?)`, with a hint where the cause is usually on the server's side.

Found by the core's describe() (shell/errors.py) by the module that defines the exception's
class; nothing here imports the driver (paramiko's names are compared as text).
"""

from __future__ import annotations

from opsh.shell.errors import Described, ErrorTable


def _paramiko(exc: BaseException) -> Described:
    name = type(exc).__name__
    text = str(exc) or name
    if name == "ChannelException":
        detail = exc.args[1] if len(exc.args) > 1 else text
        return Described.failure(f"ssh: the server refused a channel ({detail})", "MaxSessions reached?")
    if "protocol banner" in text:
        return Described.failure("ssh: no SSH banner", "is it an SSH server? is it overloaded?")
    if name == "ProxyCommandFailure":
        return Described.failure(f"ssh: proxy command failed: {text}")
    if name == "SFTPError":
        return Described.failure(f"sftp: {text}", "is the sftp subsystem enabled on the server?")
    return Described.failure(f"ssh: {text}")


ERRORS: ErrorTable = {"paramiko": _paramiko}
