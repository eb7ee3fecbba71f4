"""Which plain Python errors on the SQL worker mean a malformed packet from the server."""

from __future__ import annotations

import pytest

from opsh.commands.sql.errors import is_malformed


def raised(action) -> BaseException:  # noqa: ANN001
    with pytest.raises(Exception) as caught:
        action()
    return caught.value


def test_an_error_raised_while_pymysql_reads_a_packet_is_a_malformed_packet():
    from pymysql.charset import charset_by_id

    assert is_malformed(raised(lambda: charset_by_id(99999)))  # an unknown charset number: KeyError


def test_the_same_error_from_opsh_code_is_a_bug_not_the_servers_fault():
    assert not is_malformed(raised(lambda: {}["column"]))
    assert not is_malformed(raised(lambda: int("not a number")))
