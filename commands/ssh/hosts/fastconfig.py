"""paramiko's SSHConfig without its per-lookup overhead (imported only after paramiko is).

For every host looked up, paramiko computes all the `%` replacements of every value that may
hold one, a reverse DNS lookup of this machine (`%l`) among them, even when the value holds no
token at all: on a machine with slow DNS that is seconds per host; and it looks up the local
user for every Host block it skips. Values without a token are returned as they are, Host
blocks skip that, and lookups are remembered for the life of the parsed file.

`_tokenize` and `_does_match` are private to paramiko: tests/unit/test_ssh_paramiko_private.py
checks that lookup() still calls them as overridden here (and pyproject bounds paramiko).
"""

from __future__ import annotations

from typing import Any

import paramiko


class FastSSHConfig(paramiko.SSHConfig):
    def __init__(self) -> None:
        super().__init__()
        self._found: dict[str, paramiko.SSHConfigDict] = {}

    def _tokenize(self, config: Any, target_hostname: str, key: str, value: Any) -> Any:
        if isinstance(value, str) and "%" not in value and "~" not in value:
            return value
        return super()._tokenize(config, target_hostname, key, value)  # type: ignore[misc]

    def _does_match(self, match_list: Any, *args: Any, **kwargs: Any) -> Any:
        if not match_list:  # a Host block: paramiko would still look up the local user first
            return []
        return super()._does_match(match_list, *args, **kwargs)  # type: ignore[misc]

    def lookup(self, hostname: str) -> paramiko.SSHConfigDict:
        found = self._found.get(hostname)
        if found is None:
            found = self._found[hostname] = super().lookup(hostname)
        return paramiko.SSHConfigDict(found)  # a copy: callers may change theirs
