"""Shared fixtures. Server fixtures live one module per server in tests/servers/ and are loaded
here as plugins, so each area adds its server without touching this file."""

from __future__ import annotations

import os
import pkgutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import tests.servers
from tests.helpers import Shell

# In-process tests of Ctrl-C send SIGINT to this process. If the suite was started by something
# that ignores SIGINT (a background job of a non-interactive shell, some CI runners), Python
# leaves it ignored and no KeyboardInterrupt would ever arrive: restore the usual handler.
signal.signal(signal.SIGINT, signal.default_int_handler)

pytest_plugins = [
    f"tests.servers.{info.name}" for info in pkgutil.iter_modules(tests.servers.__path__) if info.name != "base"
]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real config or history."""
    home = tmp_path / "opsh-home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("OPSH_HOME", str(home))
    return home


@pytest.fixture
def sh(tmp_path: Path) -> Iterator[Shell]:
    """An in-process opsh session working in tmp_path."""
    shell = Shell(tmp_path)
    yield shell
    shell.close()


@pytest.fixture
def connected_shells(tmp_path: Path) -> Iterator[Callable[..., Shell]]:
    """connected_shells(url, name, **shell_kw) -> a Shell (own directory) already in that
    handle's mode; every shell made is closed at the end of the test."""
    shells: list[Shell] = []

    def make(url: str, name: str, **kw: Any) -> Shell:
        shell = Shell(tmp_path / f"s{len(shells)}", **kw)
        out = shell(f"connect {url} as {name}")
        assert out.ok, out.err
        shells.append(shell)
        return shell

    yield make
    for shell in shells:
        shell.close()


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Four `sleep 60` processes of the test's own, to send signals to."""
    procs = [subprocess.Popen(["sleep", "60"]) for _ in range(4)]
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def strict() -> bool:
    """In CI (and under tests/run) a missing server or tool is a failure, never a skip."""
    return bool(os.environ.get("CI") or os.environ.get("OPSH_TEST_STRICT"))
