"""A SQL handle with a server behind it (MySQL, PostgreSQL): one account of what a lost
connection means for the statement, whichever server it was.

A connection found dead before the statement (the server restarted while the handle sat idle)
is replaced and the statement runs, unless a transaction died with it. One lost during the
statement is replaced too, and only a read is run again: a write may have been applied, and
running it twice is worse than saying so. SQLite has no server to lose and is not one of these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opsh.commands.sql.guard import Verdict
from opsh.commands.sql.handle import SqlHandle
from opsh.commands.sql.runner import ResultSet, Run
from opsh.shell.errors import ConnectError


class ServerHandle(SqlHandle):
    # ------------------------------------------------------------ what backends provide

    def _dead(self) -> bool:
        """Whether the idle connection is unusable (closed, or the server hung up on it)."""
        raise NotImplementedError

    def _reconnect(self) -> None:
        """Replace the connection with a new one to the same database."""
        raise NotImplementedError

    def _is_loss(self, exc: BaseException) -> bool:
        """Whether `exc`, raised by the statement, means the connection is gone."""
        raise NotImplementedError

    def _error_text(self, exc: BaseException) -> str:
        """The driver's message on one line."""
        return " ".join(str(exc).split()) or type(exc).__name__

    def _gone_because(self) -> str | None:
        """Why opsh itself gave the last connection up, if it did (said when it is replaced)."""
        return None

    # ------------------------------------------------------------ the one account

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """opsh's own small queries revive an idle connection that died, as statements do."""
        if self._dead() and not self.in_transaction():
            self._revive(False)
        return super()._query(sql, params)

    def _reviving(self, info: Verdict, start: Callable[[], Run]) -> tuple[Run, ResultSet | None, str | None]:
        """`start()` the statement and wait for its first result, on a live connection (the run
        becomes the handle's current one: Ctrl-C and the next statement's settle find it)."""
        note = None
        was_in_transaction = self.in_transaction()
        if self._dead():
            note = self._revive(was_in_transaction)
        run = self._run = start()
        try:
            return run, run.next_set(), note
        except Exception as exc:
            if not self._is_loss(exc):
                raise
            lost = exc
        self._reconnect_after_loss(info, lost, was_in_transaction)
        run = self._run = start()
        return run, run.next_set(), "reconnected after losing the connection; the read was run again"

    def _revive(self, was_in_transaction: bool) -> str:
        """Replace a connection that died while idle (nothing of the statement was sent)."""
        why = self._gone_because()
        try:
            self._reconnect()
        except Exception as exc:  # noqa: BLE001 - reported with what it means for the statement
            raise ConnectError(
                f"the connection to {self.where} is gone and reconnecting failed ({self._error_text(exc)})",
                "the statement was not run; the next one tries again",
            ) from None
        if was_in_transaction:
            raise ConnectError(
                "the server had closed the connection and rolled back the open transaction;"
                " reconnected, the statement was not run",
                "start the transaction again",
            )
        return f"reconnected ({why or 'the server had closed the connection'})"

    def _reconnect_after_loss(self, info: Verdict, lost: BaseException, was_in_transaction: bool) -> None:
        """The connection died during the statement: say what that means for it."""
        verb = info.verb.upper() or "the statement"
        why = self._error_text(lost)
        try:
            self._reconnect()
        except Exception as exc:  # noqa: BLE001 - the loss is what the user needs to hear about
            failed = f"reconnecting to {self.where} failed ({self._error_text(exc)})"
            if info.is_read and not was_in_transaction:
                raise ConnectError(f"connection lost during {verb} ({why}); {failed}") from None
            raise ConnectError(
                f"connection lost during {verb} ({why}): it may have been applied; {failed}"
                + ("; the open transaction was rolled back" if was_in_transaction else ""),
                "check whether it took effect once the server is back",
            ) from None
        if was_in_transaction:
            raise ConnectError(
                f"connection lost during {verb} ({why}); the open transaction was rolled back",
                "reconnected: start the transaction again",
            )
        if not info.is_read:
            raise ConnectError(
                f"connection lost during {verb} ({why}): it may have been applied;"
                " reconnected, but it was not run again",
                "check whether it took effect before running it again",
            )
