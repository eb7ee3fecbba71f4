"""Driving the installed `opsh` in a real pseudo-terminal, as a person at the keyboard would.

term = Term.start(tmp_path)
term.expect_prompt()
out = term.run("echo hi")      # text printed before the next prompt, escapes removed
term.ctrl("d"); assert term.exit_status() == 0
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pexpect

from tests.helpers import clean_env, opsh_binary

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>]|\r")
# prompt_toolkit switches bracketed paste on when a prompt starts and off when it ends, so the
# text between "off" and the next "on" is exactly what the command printed.
PROMPT_START = "\x1b[?2004h"
PROMPT_END = "\x1b[?2004l"
# prompt_toolkit asks where the cursor is (to know the screen height, e.g. for the bottom
# toolbar); a terminal answers at once, so this one does too.
CURSOR_QUERY = "\x1b[6n"


def plain(text: str) -> str:
    return ANSI.sub("", text)


class Term:
    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child

    @classmethod
    def start(
        cls,
        home: Path,
        *args: str,
        cwd: Path | None = None,
        timeout: float = 10,
        rows: int = 40,
        columns: int = 120,
        preexec_fn: Callable[[], None] | None = None,
        **env: str,
    ) -> Term:
        """`preexec_fn` runs in the child before opsh starts (e.g. to set a resource limit)."""
        child = pexpect.spawn(
            opsh_binary(),
            list(args),
            env=clean_env(home, **env),
            cwd=str(cwd or home),
            encoding="utf-8",
            dimensions=(rows, columns),
            timeout=timeout,
            preexec_fn=preexec_fn,
        )
        return cls(child)

    def _expect(self, pattern: str | type[pexpect.EOF], timeout: float | None, exact: bool) -> str:
        """Wait for `pattern`, answering cursor-position queries on the way; returns the text before it."""
        seen: list[str] = []
        target = re.escape(pattern) if exact and isinstance(pattern, str) else pattern
        wait = timeout or self.child.timeout
        while True:
            try:
                index = self.child.expect([re.escape(CURSOR_QUERY), target], timeout=wait)
            except (pexpect.TIMEOUT, pexpect.EOF) as exc:
                raise AssertionError(self._missed(pattern, seen, exc, wait)) from None
            seen.append(self.child.before)
            if index == 1:
                return "".join(seen)
            self.child.send("\x1b[1;1R")

    def _missed(self, pattern: object, seen: list[str], exc: Exception, wait: float) -> str:
        """Expected vs actual, readable: what was awaited and the screen text that came instead."""
        got = plain("".join(seen) + str(self.child.before or ""))
        why = "timed out after %.1fs" % wait if isinstance(exc, pexpect.TIMEOUT) else "opsh exited"
        wanted = {PROMPT_START: "a prompt", PROMPT_END: "Enter to be taken"}.get(str(pattern), repr(pattern))
        return f"{why} waiting for {wanted}\n--- opsh printed (escapes removed) ---\n{got[-3000:]}\n---"

    def expect_prompt(self, timeout: float | None = None) -> str:
        """Wait for a prompt; returns what was printed before it (escapes removed)."""
        return plain(self._expect(PROMPT_START, timeout, exact=True))

    def expect(self, pattern: str, timeout: float | None = None) -> str:
        return plain(self._expect(pattern, timeout, exact=False))

    def run(self, line: str, timeout: float | None = None) -> str:
        """Type `line`, press Enter, return the output up to the next prompt."""
        return plain(self.run_raw(line, timeout))

    def run_raw(self, line: str, timeout: float | None = None) -> str:
        """Like run(), but what the terminal was sent, escape sequences and all."""
        self.child.send(line + "\r")
        self._expect(PROMPT_END, timeout, exact=True)
        return self._expect(PROMPT_START, timeout, exact=True)

    def send(self, text: str) -> None:
        self.child.send(text)

    def ctrl(self, key: str) -> None:
        self.child.sendcontrol(key)

    def exit_status(self, timeout: float = 10) -> int | None:
        self._expect(pexpect.EOF, timeout, exact=False)
        self.child.close()
        return self.child.exitstatus

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
