"""Files a connection URL names (TLS certificates and keys) are read by the driver or OpenSSL by
name: a fifo there once held the connect for good. Each is checked to be a regular file first,
and anything else is one line saying what it is (shell/fileread.py's words)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.helpers import Shell


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "ca.fifo"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("url", "option"),
    [
        ("rediss://127.0.0.1:6390/0?ca={}", "ca"),
        ("rediss://127.0.0.1:6390/0?cert={}", "cert"),
        ("mongodb://127.0.0.1:27099/db?tls=true&tlsCAFile={}", "tlsCAFile"),
        ("mongodb://127.0.0.1:27099/db?tls=true&tlsCertificateKeyFile={}", "tlsCertificateKeyFile"),
        ("mysql://app:pw@127.0.0.1:3399/shop?ssl_ca={}", "ssl_ca"),
    ],
)
def test_a_fifo_or_a_device_named_for_tls_is_refused_before_connecting(tmp_path, fifo, url, option):
    shell = Shell(tmp_path)
    started = time.monotonic()
    out = shell.fails(f"connect {url.format(fifo)}")
    assert out.err.startswith(f"error: {option}={fifo} is a fifo (named pipe), not a regular file")
    out = shell.fails(f"connect {url.format('/dev/zero')}")
    assert out.err.startswith(f"error: {option}=/dev/zero is a character device, not a regular file")
    assert time.monotonic() - started < 5
