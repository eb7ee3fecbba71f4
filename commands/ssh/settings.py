"""The SSH area's settings (`set NAME VALUE`, or [settings] in the config file)."""

from __future__ import annotations

from opsh.shell.spec import Kind, Setting

SETTINGS = (
    Setting("ssh_config", Kind.PATH, "~/.ssh/config", "ssh client config read for hosts (env OPSH_SSH_CONFIG wins)"),
    Setting("known_hosts", Kind.PATH, "~/.ssh/known_hosts", "known host keys file (env OPSH_KNOWN_HOSTS wins)"),
    Setting("ssh_persist", Kind.DURATION, 300.0, "keep SSH connections open this long for reuse (0: close after use)"),
    Setting(
        "tty",
        Kind.CHOICE,
        "auto",
        "SSH mode lines get a terminal on the host (as ssh -t): auto = when opsh runs at one, on, off",
        ("auto", "on", "off"),
    ),
)
