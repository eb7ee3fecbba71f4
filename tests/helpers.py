"""Running opsh in-process, as a user would type, and reading what it printed.

    sh = Shell(tmp_path)
    assert sh.ok("echo hello").text == "hello\\n"
    sh.fails("cat nosuchfile", "no such file")
    rows = sh.json("ls --format json")

Every line goes through the real Engine (parsing, dispatch, rendering); only stdout and
stderr are buffers instead of the terminal.
"""

from __future__ import annotations

import functools
import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsh import commands
from opsh.shell.config import Config, Paths
from opsh.shell.dispatch import Engine
from opsh.shell.interact import Interaction, ScriptedInteraction
from opsh.shell.registry import Registry
from opsh.shell.session import Session


@functools.cache
def registry() -> Registry:
    """Discovered once per test process: building it is pure and the same every time."""
    return Registry(commands.modules)


class InternalError(AssertionError):
    """A command raised something that is not an OpshError: a bug in opsh."""


@dataclass
class Outcome:
    text: str
    err: str
    ok: bool
    exit_code: int

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


class Shell:
    """A session with its own home (config, history) and working directory."""

    def __init__(
        self,
        root: Path,
        *,
        answers: Iterable[str] | None = None,
        yes: bool = False,
        config: str | None = None,
        history: bool = True,
    ) -> None:
        home = root / "opsh-home"
        home.mkdir(parents=True, exist_ok=True)
        if config is not None:
            (home / "config.toml").write_text(config)
        paths = Paths(home, home)
        self.io: Interaction = ScriptedInteraction(answers or (), yes) if answers is not None else Interaction(yes)
        from opsh.history.store import HistoryStore

        store = HistoryStore(paths.history_file) if history else None
        self.session = Session(registry(), Config.load(paths), self.io, history=store)
        self.session.cwd = root
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.engine = Engine(self.session, self.out, self.err)

    def __call__(self, text: str) -> Outcome:
        """Run `text` as typed. An internal error (a bug, not a failure opsh expects) raises
        InternalError here, so no test can pass on an `internal error: ...` line."""
        start_out, start_err = self.out.tell(), self.err.tell()
        failures = self.engine.failures
        ok = self.engine.feed(text + "\n")
        ok = self.engine.finish() and ok
        outcome = Outcome(
            self.out.getvalue()[start_out:],
            self.err.getvalue()[start_err:],
            ok and self.engine.failures == failures,
            self.session.last.exit_code,
        )
        if self.engine.internal_errors:
            first, *_ = self.engine.internal_errors
            self.engine.internal_errors.clear()
            raise InternalError(f"{text!r} hit an internal error:\n{outcome.err}") from first
        return outcome

    def ok(self, text: str) -> Outcome:
        """Run `text` and assert it succeeded (the error output is the failure message)."""
        outcome = self(text)
        assert outcome.ok, f"{text!r} failed:\n{outcome.err}"
        return outcome

    def fails(self, text: str, match: str = "", exit_code: int | None = None) -> Outcome:
        """Run `text` and assert it failed with an error line containing `match`."""
        outcome = self(text)
        assert not outcome.ok, f"{text!r} succeeded, expected a failure; output:\n{outcome.text}"
        assert match in outcome.err, f"{text!r}: expected {match!r} in the error, got:\n{outcome.err}"
        if exit_code is not None:
            assert outcome.exit_code == exit_code, f"{text!r}: exit {outcome.exit_code}, expected {exit_code}"
        return outcome

    def json(self, text: str) -> Any:
        """Run `text` with --format json semantics and parse the output."""
        settings = self.session.settings
        before, chosen = settings.get("format"), settings.is_explicit("format")
        settings.set("format", "json")
        try:
            outcome = self(text)
        finally:
            if chosen:
                settings.set("format", before)
            else:
                settings.reset("format")
        assert outcome.ok, outcome.err
        return outcome.json

    def close(self) -> None:
        self.session.close_all()


def opsh_binary() -> str:
    """The installed `opsh` console script next to the running interpreter (the test venv)."""
    import sys

    candidate = Path(sys.executable).with_name("opsh")
    if not candidate.exists():
        raise RuntimeError(f"opsh is not installed next to {sys.executable}: run tests/run")
    return str(candidate)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment for a spawned opsh: its own home, no colours unless asked, a sane TERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSH_", "PAGER"))}
    env.update({"OPSH_HOME": str(home), "TERM": "xterm", "NO_COLOR": "1", "PAGER": "cat", "LC_ALL": "C.UTF-8"})
    env.update(extra)
    return env
