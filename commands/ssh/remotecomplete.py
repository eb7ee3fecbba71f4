"""Tab completion of remote paths in SSH mode, listed over SFTP relative to the kept cwd."""

from __future__ import annotations

import posixpath
import stat
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from opsh.shell.errors import swallowed

if TYPE_CHECKING:
    from paramiko import SFTPClient

    from opsh.commands.ssh.mode import SshHandle

MAX_ENTRIES = 2000


class RemotePathCompleter(Completer):
    def __init__(self, handle: SshHandle) -> None:
        self.handle = handle

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = document.text_before_cursor
        if text.lstrip().startswith("\\"):
            return
        if not complete_event.completion_requested:
            return  # on Tab only: a listing per keystroke costs a round trip, and a menu made
            # while typing would turn the first Tab into a selection instead of a completion
        word = text.split(" ")[-1] if text else ""
        head, _, tail = word.rpartition("/")
        directory = self._directory(head, word)
        if directory is None:
            return
        try:
            sftp = self._sftp()
            entries = sftp.listdir_attr(directory)[:MAX_ENTRIES]
        except Exception:  # noqa: BLE001 - completion must never break typing
            swallowed(f"listing {directory} over SFTP for completion")
            return
        base = head + "/" if "/" in word else ""
        for entry in sorted(entries, key=lambda e: e.filename):
            name = entry.filename
            if not name.startswith(tail) or (name.startswith(".") and not tail.startswith(".")):
                continue
            is_dir = stat.S_ISDIR(entry.st_mode or 0)
            yield Completion(base + name + ("/" if is_dir else ""), -len(word), display_meta="dir" if is_dir else "")

    def _directory(self, head: str, word: str) -> str | None:
        cwd = self.handle.cwd or self.handle.home or "."
        if "/" not in word:
            return cwd
        if word.startswith("/"):
            return head or "/"
        if word.startswith("~"):
            if not self.handle.home:
                return None
            return posixpath.join(self.handle.home, head[1:].lstrip("/"))
        return posixpath.join(cwd, head)

    def _sftp(self) -> SFTPClient:
        handle = self.handle
        if handle.sftp is None:
            if handle.transport is None or not handle.transport.is_active():
                raise ConnectionError("not connected")
            handle.sftp = handle.transport.open_sftp_client()
        return handle.sftp
