"""memcache mode (pymemcache): `connect memcache://host:port`, then the text protocol's verbs.

    get k [k2 ...]      gets k [k2 ...]     set k v [ttl [flags]]    add / replace (same)
    append k v          prepend k v         delete k                 incr k [n] / decr k [n]
    touch k ttl         cas k v CAS [ttl]   stats [items|slabs|settings|sizes|conns]
    flush_all [delay]   version             help

Values are shown as text (binary ones as 0x hex). A verb whose condition fails (`add` of an
existing key, `cas` after a change, `delete` of a missing key) prints memcached's own word
(NOT_STORED, EXISTS, NOT_FOUND) and counts as failed, so scripts can test it.

The parts: handle.py (connection and the verbs' work), syntax.py (the verbs and their
arguments), complete.py (completer and lexer), guard.py (readonly, flush_all), render.py
(replies as Results), help.py (`help`), errors.py (how the driver's exceptions read; imported
here so that describing one finds it). The driver loads on the first connect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsh.commands.memcache.errors import ERRORS as ERRORS

if TYPE_CHECKING:
    from opsh.shell.handles import ConnectRequest, Handle
    from opsh.shell.session import Session


def connect(session: Session, request: ConnectRequest) -> Handle:
    from opsh.commands.memcache.handle import connect_memcache

    return connect_memcache(session, request)


CONNECTORS = {"memcache": connect, "memcached": connect}
