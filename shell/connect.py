"""Opening a connection: a URL or a configured name -> the backend's connector -> a Handle.

`connect` and every layer that opens connections of its own (the `--on` fan-out opens one per
configured target) call down to this one path, so a URL means the same thing everywhere: the
same config entry (password from its environment variable, readonly, tag), the same derived
handle name, the same hidden password prompt. Backends offer their connectors through the
registry (`CONNECTORS`); the core knows no scheme.
"""

from __future__ import annotations

import os
import re
import socket
import urllib.parse
from typing import TYPE_CHECKING

from opsh.shell.errors import ConnectError, NotFound, OpshError, UsageError, describe
from opsh.shell.handles import ConnectRequest, Handle, split_url

if TYPE_CHECKING:
    from opsh.shell.session import Session

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def open_connection(
    session: Session,
    target: str,
    name: str | None = None,
    readonly: bool = False,
    tag: str | None = None,
    accept_new: bool = False,
) -> Handle:
    """Resolve a URL or a name to a backend's connector and open a handle (not yet added)."""
    url, conf_password, config_name = _url_of(session, target)
    conf = session.config.connections.get(config_name) if config_name else None
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    connector = session.registry.connectors.get(scheme)
    if connector is None:
        known = ", ".join(f"{s}://" for s in sorted(session.registry.connectors)) or "none"
        raise UsageError(
            f"unknown connection scheme {scheme + '://' if scheme else 'in ' + repr(target)}", f"known: {known}"
        )
    clean, password = split_url(url)
    parts = urllib.parse.urlsplit(clean)
    handle_name = name or config_name or session.unique_handle_name(_base_name(parts))
    if handle_name in session.handles:
        raise UsageError(
            f"a handle named {handle_name!r} is already open", "close it first, or pick another name with `as NAME`"
        )
    user = urllib.parse.unquote(parts.username or "")
    where = f"{user}@" if user else ""
    where += parts.netloc.rpartition("@")[2] or handle_name
    request = ConnectRequest(
        url=clean,
        name=handle_name,
        parts=parts,
        password=password if password is not None else conf_password,
        readonly=readonly or bool(conf and conf.readonly),
        tag=tag or (conf.tag if conf else None),
        options={k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()},
        accept_new=accept_new,
        config=dict(conf.options) if conf else {},
        ask_password=lambda: session.secret(f"password for {scheme}://{where}: "),
    )
    try:
        handle = connector(session, request)
    except (ConnectionError, TimeoutError, socket.gaierror) as exc:
        raise _unreachable(scheme, parts, exc) from None
    handle.url = handle.url or _recorded_url(target, clean)
    return handle


def _unreachable(scheme: str, parts: urllib.parse.SplitResult, exc: BaseException) -> ConnectError:
    """A network failure a backend let through, with what was tried: `connection refused`
    alone does not say where."""
    try:
        port = parts.port
    except ValueError:
        port = None
    where = parts.hostname or urllib.parse.unquote(parts.path) or "?"
    where += f":{port}" if port else ""
    hint = "is the host name right?" if isinstance(exc, socket.gaierror) else "is it running?"
    return ConnectError(f"cannot reach {scheme} at {where}: {describe(exc).message}", hint)


def already_open(session: Session, target: str, name: str | None, readonly: bool = False) -> Handle | None:
    """The open handle that `connect target [as name]` would open again: same name (given, from
    the config, or derived from the URL) and same URL. Reusing it lets a script that connects
    run in the session that recorded it, or twice in a row."""
    url, _, config_name = _url_of(session, target)
    clean, _ = split_url(url)
    wanted = name or config_name or _base_name(urllib.parse.urlsplit(clean))
    handle = session.handles.get(wanted)
    if handle is None or handle.url != _recorded_url(target, clean):
        return None
    return handle if handle.readonly or not readonly else None


def _recorded_url(target: str, clean: str) -> str:
    """What `record` writes back after `connect`: the name as typed, or the URL without its
    password."""
    return target if "://" not in target else clean


def _url_of(session: Session, target: str) -> tuple[str, str | None, str | None]:
    """(url, password from the environment, config name) for a URL or a name."""
    if "://" in target:
        return target, None, None
    conf = session.config.connections.get(target)
    if conf is not None:
        password = None
        if conf.password_env:
            password = os.environ.get(conf.password_env)
            if password is None:
                raise OpshError(f"connection {target}: environment variable {conf.password_env} is not set")
        return conf.url, password, target
    for resolver in session.registry.resolvers:
        url = resolver(session, target)
        if url:
            return url, None, None
    raise NotFound(
        f"unknown connection {target!r}",
        "give a URL like redis://host:6379, or define [connections." + target + "] in the config",
    )


def _base_name(parts: urllib.parse.SplitResult) -> str:
    """The handle name a URL gets without `as NAME` (before `-2` makes it unique)."""
    path = urllib.parse.unquote(parts.path).rstrip("/").rsplit("/", 1)[-1]
    stem = path.rsplit(".", 1)[0] if "." in path else path
    base = stem if stem and not stem.isdigit() else parts.hostname or parts.scheme
    return _SAFE_NAME.sub("_", base).strip("_") or "conn"
