"""The `term` fixture: opsh started in a real pty, at its first prompt, in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.term import Term


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Term]:
    session = Term.start(tmp_path / "home", cwd=tmp_path)
    session.expect_prompt()
    yield session
    session.close()
