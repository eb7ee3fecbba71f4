"""Reading a remote file over SFTP with many requests in flight, all from the calling thread.

paramiko's `prefetch()` sends its read requests from a thread of its own that nothing stops:
a pull cut short (Ctrl-C, a dead connection) leaves it sending into a closed channel, and it
dies with a traceback printed over the result table (issue 24), or it waits for good for
answers nobody reads any more. Here the thread that reads is the one that asks, so a pull
that stops leaves nothing running.

It relies on two private methods of paramiko's SFTPClient, `_async_request(fileobj, type,
*args)` and `_read_response()`, and on SFTPFile.handle (tests/unit/test_ssh_paramiko_private.py
watches them).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

DEPTH = 64  # read requests in flight (as paramiko's prefetch is used here)
CHUNK = 32768  # what one request asks for (paramiko's MAX_REQUEST_SIZE)


class Replies:
    """Where paramiko's response reader hands the answers to this file's requests."""

    def __init__(self) -> None:
        self.got: dict[int, tuple[int, Any]] = {}

    def _async_response(self, kind: int, message: Any, number: int) -> None:
        self.got[number] = (kind, message)


def chunks(sftp: Any, handle: bytes, size: int) -> Iterator[bytes]:
    """The file's bytes in order, up to its end (`size` is what stat said: up to there the
    requests are pipelined, past it the file is read a request at a time until the server
    says it ended). A status other than the end raises the server's error."""
    from paramiko.sftp import CMD_READ, CMD_STATUS, int64

    replies = Replies()
    pending: deque[tuple[int, int, int]] = deque()  # (request number, offset, length)
    asked = 0  # where the next request starts

    def ask(offset: int, length: int) -> tuple[int, int, int]:
        return sftp._async_request(replies, CMD_READ, handle, int64(offset), length), offset, length

    while True:
        while len(pending) < DEPTH and (asked < size or not pending):
            pending.append(ask(asked, CHUNK))
            asked += CHUNK
        number, offset, length = pending.popleft()
        while number not in replies.got:
            sftp._read_response()
        kind, message = replies.got.pop(number)
        if kind == CMD_STATUS:
            try:
                sftp._convert_status(message)
            except EOFError:  # the end of the file: what is still in flight is past it
                _drain(sftp, replies, pending)
                return
            continue
        data = message.get_string()
        if 0 < len(data) < length:  # a short answer: the rest of this piece is asked for first
            pending.appendleft(ask(offset + len(data), length - len(data)))
        yield data


def _drain(sftp: Any, replies: Replies, pending: deque[tuple[int, int, int]]) -> None:
    """The answers still due (ends of file) are read, so none arrives during the next file."""
    for number, _, _ in pending:
        while number not in replies.got:
            sftp._read_response()
        replies.got.pop(number)
