"""The SSH specs load at startup, so they must stay cheap, and each names its implementation
as a string that is only imported when the command runs: a typo there would otherwise show
only when a user first types the command."""

from __future__ import annotations

import importlib
import subprocess
import sys

import opsh.commands.ssh as ssh
from opsh.shell.spec import Command


def _every_command(commands: tuple[type[Command], ...]) -> list[type[Command]]:
    return [c for cmd in commands for c in (cmd, *_every_command(cmd.subcommands))]


def test_every_ssh_command_names_an_importable_implementation() -> None:
    for cmd in _every_command(ssh.COMMANDS):
        module, _, function = cmd.implementation.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), cmd.name


SPEC_MODULES = {
    "opsh.commands.ssh",
    "opsh.commands.ssh.settings",
    "opsh.commands.ssh.hosts",
    "opsh.commands.ssh.hosts.commands",
    "opsh.commands.ssh.exec",
    "opsh.commands.ssh.exec.command",
    "opsh.commands.ssh.copy",
    "opsh.commands.ssh.copy.command",
    "opsh.commands.ssh.errors",  # how paramiko's errors read: no paramiko in it
    "opsh.commands.ssh.edit",
}


def test_loading_the_ssh_area_imports_only_its_specs_and_no_paramiko() -> None:
    code = (
        "import sys, opsh.commands.ssh;"
        "print(' '.join(m for m in sys.modules if m.startswith(('paramiko', 'opsh.commands.ssh'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert set(loaded) == SPEC_MODULES
