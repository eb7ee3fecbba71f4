"""The private parts of paramiko that opsh relies on, exercised one by one, so that a paramiko
upgrade that moves them fails here instead of for a user (pyproject.toml also bounds paramiko
below the next major version).

- hosts/fastconfig.py overrides `SSHConfig._tokenize(config, target_hostname, key, value)`
  (skips paramiko's `%` expansion, with its DNS lookup, for values without a token) and
  `SSHConfig._does_match(match_list, target_hostname, canonical, final, options)` (skips the
  local user lookup for Host blocks): both only help if `lookup()` still calls them so.
- hosts/sshconf.py hands invoke to paramiko through the module globals
  `paramiko.config.invoke` / `invoke_import_error` (see test_ssh_files for `Match exec`).
- exec/remote.py sends the `signal` channel request with `Transport._send_user_message(data)`
  and `paramiko.common.cMSG_CHANNEL_REQUEST` (tests/ssh: a timed-out command is stopped);
  it sends `exec` the same way without waiting for the answer, after `Channel._event_pending()`,
  reads `Channel.event_ready` (set by the answer, False after a refusal), and waits on a
  channel through `in_buffer.set_event(event)` / `in_stderr_buffer.set_event(event)`.
- copy/sftpread.py pipelines SFTP reads itself: `SFTPClient._async_request(fileobj, t, *args)`
  with a `fileobj` whose `_async_response(t, msg, num)` gets the answer, `_read_response()`,
  `_convert_status(msg)` and `SFTPFile.handle` (tests/ssh: every pull).
"""

from __future__ import annotations

import inspect
import os
import threading
from typing import Any

import paramiko
import paramiko.common
import paramiko.config
import pytest

from opsh.commands.ssh.hosts.fastconfig import FastSSHConfig


class Spy(FastSSHConfig):
    """Counts how paramiko's lookup calls the two overridden methods."""

    def __init__(self) -> None:
        super().__init__()
        self.tokenized: list[tuple[str, Any]] = []
        self.matched: list[Any] = []

    def _tokenize(self, config: Any, target_hostname: str, key: str, value: Any) -> Any:
        self.tokenized.append((key, value))
        return super()._tokenize(config, target_hostname, key, value)

    def _does_match(self, match_list: Any, *args: Any, **kwargs: Any) -> Any:
        self.matched.append(match_list)
        return super()._does_match(match_list, *args, **kwargs)


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def _spy(text: str) -> Spy:
    spy = Spy()
    spy.parse(iter(text.splitlines(keepends=True)))
    return spy


def test_the_overridden_methods_keep_their_signatures() -> None:
    assert _parameters(paramiko.SSHConfig._tokenize) == ["self", "config", "target_hostname", "key", "value"]
    assert _parameters(paramiko.SSHConfig._does_match) == [
        "self",
        "match_list",
        "target_hostname",
        "canonical",
        "final",
        "options",
    ]


def test_lookup_tokenizes_every_value_through_the_override() -> None:
    spy = _spy("Host web\n    HostName %h.example.com\n    Port 2222\n    IdentityFile ~/.ssh/id_%h\n")
    found = spy.lookup("web")
    assert ("hostname", "%h.example.com") in spy.tokenized and ("port", "2222") in spy.tokenized
    assert found["hostname"] == "web.example.com" and found["port"] == "2222"
    assert found["identityfile"] == [os.path.expanduser("~/.ssh/id_web.example.com")]


def test_values_without_a_token_never_reach_paramikos_expansion(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns() -> str:
        raise AssertionError("paramiko looked up the local host name")

    monkeypatch.setattr(paramiko.config.socket, "gethostname", no_dns)
    found = _spy("Host web\n    HostName 10.0.0.1\n    User deploy\n").lookup("web")
    assert found["hostname"] == "10.0.0.1" and found["user"] == "deploy"


def test_host_blocks_reach_does_match_empty_and_skip_the_user_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user() -> str:
        raise AssertionError("paramiko looked up the local user")

    monkeypatch.setattr(paramiko.config.getpass, "getuser", no_user)
    spy = _spy("Host other\n    User x\nHost web\n    User y\n")
    assert spy.lookup("web")["user"] == "y"
    assert [] in spy.matched  # the `other` block, which did not match by name


def test_match_blocks_still_go_to_paramiko() -> None:
    spy = _spy("Match originalhost web\n    User matched\nHost *\n    User other\n")
    assert spy.lookup("web")["user"] == "matched" and spy.lookup("db")["user"] == "other"
    assert any(spy.matched)


def test_the_config_module_keeps_its_invoke_slots() -> None:
    assert hasattr(paramiko.config, "invoke") and hasattr(paramiko.config, "invoke_import_error")
    assert "invoke_import_error" in inspect.getsource(paramiko.SSHConfig._does_match)


def test_a_raw_channel_request_can_still_be_sent() -> None:
    assert _parameters(paramiko.Transport._send_user_message) == ["self", "data"]
    assert paramiko.common.cMSG_CHANNEL_REQUEST == bytes([paramiko.common.MSG_CHANNEL_REQUEST])


def test_an_exec_request_can_still_go_out_unwaited_and_be_waited_on_without_a_pipe() -> None:
    assert _parameters(paramiko.Channel._event_pending) == ["self"]
    source = inspect.getsource(paramiko.Channel._request_success)
    assert "self.event_ready = True" in source
    assert "self._close_internal()" in inspect.getsource(paramiko.Channel._request_failed)
    channel = paramiko.Channel(0)
    assert channel.event_ready is False
    buffer = paramiko.Channel(1).in_buffer  # a BufferedPipe: feeding it sets its event
    flag = threading.Event()
    buffer.set_event(flag)
    assert not flag.is_set()
    buffer.feed(b"x")
    assert flag.is_set()
    buffer.read(1)
    assert not flag.is_set()
    buffer.close()
    assert flag.is_set()


def test_sftp_reads_can_still_be_sent_and_answered_by_hand() -> None:
    from paramiko.sftp import CMD_READ, CMD_STATUS, int64  # noqa: F401 - they must still exist

    client = paramiko.SFTPClient
    assert _parameters(client._async_request) == ["self", "fileobj", "t", "args"]
    assert _parameters(client._read_response) == ["self", "waitfor"]
    assert _parameters(client._convert_status) == ["self", "msg"]
    assert "fileobj._async_response(t, msg, num)" in inspect.getsource(client._read_response)
    assert "self.handle = handle" in inspect.getsource(paramiko.SFTPFile.__init__)
