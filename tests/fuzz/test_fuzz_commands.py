"""Garbage arguments to every local command, through the in-process shell: only `error:` lines.

Each example is one line, `COMMAND [SUBCOMMAND] WORD...`, run in a fresh session inside a
sandbox directory seeded with a few real files (text, an archive, a sums file, a script, a
server list). The helper raises InternalError for anything but an OpshError, which fails the
test. The words are garbage (huge numbers, control characters, brackets, the command's own
flags...), each single-quoted so that no word becomes an operator.

What keeps this harmless: commands that open connections (connect, run, copy, sql, redis...)
are left out, as are `sleep` and following (`tail -f`, `ps --interval`); no word starts with
`/` or `~` or holds `..`, so every path stays in the sandbox; `kill` always gets `-0` first
(signal 0 checks and sends nothing); a scan's probes are replaced by an empty outcome and no
name reaches DNS (scan's parsing and rendering are what is fuzzed).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsh.commands.scan.model import ScanOutcome
from opsh.shell.spec import Command
from tests.fuzz.garbage import FUZZ_EACH, check, words
from tests.fuzz.test_fuzz_targets import no_dns
from tests.helpers import InternalError, Shell, registry

# `edit` connects for HOST:PATH and opens an interactive editor (vi when EDITOR is unset).
NETWORK_OR_ENDLESS = {"connect", "run", "copy", "scp", "sql", "redis", "mongo", "sleep", "use", "close", "edit"}
ENDLESS_FLAGS = {"tail": {"-f", "--follow"}, "ps": {"-i", "--interval"}}


def local_commands() -> list[tuple[str, type[Command]]]:
    """(line prefix, command) for every local command and subcommand."""
    out: list[tuple[str, type[Command]]] = []
    reg = registry()
    for name in reg.names():
        cmd = reg.commands[name]
        if cmd.name in NETWORK_OR_ENDLESS or name != cmd.name:
            continue
        out.append((name, cmd))
        out += [(f"{name} {sub.name}", sub) for sub in cmd.subcommands]
    return out


COMMANDS = local_commands()


def flags_of(cmd: type[Command]) -> list[str]:
    return [flag for param in cmd.params if param.is_option for flag in param.flags] + ["--format", "--yes"]


def harmless(word: str, command: str) -> str:
    """The word with what could leave the sandbox or never end taken out."""
    word = word.replace("\n", " ").replace("\r", " ").replace("'", "").replace("..", ".")
    word = word.lstrip("/~")
    if word in ENDLESS_FLAGS.get(command.split()[0], set()):
        return "--format"
    return word


def lines(prefix: str, cmd: type[Command]) -> st.SearchStrategy[str]:
    """`PREFIX 'word' 'word' ...` for one command (kill: `kill -0 ...`)."""
    extra = flags_of(cmd) + ["items.txt", "box.tar.gz", "box.zip", "SUMS", "script.opsh", "servers.txt", "dir"]

    def line(garbage: list[str]) -> str:
        quoted = [f"'{harmless(w, prefix)}'" for w in garbage]
        return " ".join([prefix, *(["-0"] if prefix == "kill" else []), *quoted])

    return st.lists(words(extra), max_size=5).map(line)


def seed(root: Path) -> None:
    """Real files for the commands to chew on (put back when an earlier line removed them)."""
    (root / "dir" / "sub").mkdir(parents=True, exist_ok=True)
    files = {
        "items.txt": "alpha\nbeta\n",
        "dir/sub/deep.txt": "deep\n",
        "script.opsh": "echo from a script\n",
        "servers.txt": "127.0.0.2 22 root pw\n",
        "SUMS": "d41d8cd98f00b204e9800998ecf8427e  items.txt\n",
    }
    for name, text in files.items():
        if not (root / name).is_file():
            (root / name).write_text(text)
    if not (root / "box.tar.gz").is_file():
        with tarfile.open(root / "box.tar.gz", "w:gz") as tar:
            tar.add(root / "items.txt", "items.txt")
    if not (root / "box.zip").is_file():
        with zipfile.ZipFile(root / "box.zip", "w") as zf:
            zf.write(root / "items.txt", "items.txt")
    if not (root / "log.gz").is_file():
        (root / "log.gz").write_bytes(gzip.compress(b"x\n"))


def no_probes(*args: Any, **kw: Any) -> ScanOutcome:
    targets, ports = args[0], args[1]
    from opsh.commands.scan.model import HostTally

    return ScanOutcome(targets, [HostTally() for _ in targets], len(targets) * len(ports), 0, 0.0, False, 1)


@contextlib.contextmanager
def sandbox() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="opsh-fuzz-") as name:
        root = Path(name)
        env = {"OPSH_SSH_CONFIG": str(root / "no-ssh-config"), "OPSH_KNOWN_HOSTS": str(root / "known_hosts")}
        with (
            mock.patch.dict(os.environ, env),
            mock.patch.object(tempfile, "tempdir", str(root)),
            mock.patch("opsh.commands.scan.workers.run_scan", no_probes),
            no_dns(),
        ):
            yield root


@pytest.mark.parametrize(("prefix", "cmd"), COMMANDS, ids=[prefix for prefix, _ in COMMANDS])
def test_garbage_arguments_to_every_local_command(prefix, cmd):
    with sandbox() as root:

        @given(lines(prefix, cmd))
        @FUZZ_EACH
        def one_line(line: str) -> None:
            seed(root)
            shell = Shell(root, history=False)
            try:
                check(f"commands: {prefix}", line, lambda: shell(line))
            finally:
                shell.close()

        one_line()


def test_every_local_command_is_fuzzed():
    names = {prefix for prefix, _ in COMMANDS}
    assert {"archive extract", "hash", "kill", "signals", "scan", "hosts rm", "ts", "random choice"} <= names


def test_the_helper_reports_internal_errors():
    """The check above relies on it: an internal error raises InternalError."""
    assert issubclass(InternalError, AssertionError)
