"""Driving the installed `opsh` in a real pseudo-terminal, as a person at the keyboard would.

term = Term.start(tmp_path)
term.expect_prompt()
out = term.run("echo hi")      # text printed before the next prompt, escapes removed
term.ctrl("d"); assert term.exit_status() == 0
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pexpect

from tests.helpers import clean_env, opsh_binary

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>]|\r")
# prompt_toolkit switches bracketed paste on when a prompt starts and off when it ends, so the
# text between "off" and the next "on" is exactly what the command printed.
PROMPT_START = "\x1b[?2004h"
PROMPT_END = "\x1b[?2004l"


def plain(text: str) -> str:
    return ANSI.sub("", text)


class Term:
    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child

    @classmethod
    def start(cls, home: Path, *args: str, cwd: Path | None = None, timeout: float = 10, **env: str) -> Term:
        # prompt_toolkit asks the terminal for the cursor position and waits up to a second for
        # an answer that pexpect never gives; a real terminal answers at once.
        environment = clean_env(home, PROMPT_TOOLKIT_NO_CPR="1", **env)
        child = pexpect.spawn(
            opsh_binary(),
            list(args),
            env=environment,
            cwd=str(cwd or home),
            encoding="utf-8",
            dimensions=(40, 120),
            timeout=timeout,
        )
        return cls(child)

    def expect_prompt(self, timeout: float | None = None) -> str:
        """Wait for a prompt; returns what was printed before it (escapes removed)."""
        self.child.expect_exact(PROMPT_START, timeout=timeout or self.child.timeout)
        return plain(self.child.before)

    def expect(self, pattern: str, timeout: float | None = None) -> str:
        self.child.expect(pattern, timeout=timeout or self.child.timeout)
        return plain(self.child.before)

    def run(self, line: str, timeout: float | None = None) -> str:
        """Type `line`, press Enter, return the output up to the next prompt."""
        self.child.send(line + "\r")
        self.child.expect_exact(PROMPT_END, timeout=timeout or self.child.timeout)
        return self.expect_prompt(timeout)

    def send(self, text: str) -> None:
        self.child.send(text)

    def ctrl(self, key: str) -> None:
        self.child.sendcontrol(key)

    def exit_status(self, timeout: float = 10) -> int | None:
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.child.close()
        return self.child.exitstatus

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
