"""The config file (TOML) and where opsh keeps its files.

`OPSH_HOME` points everything (config, history, hosts file) at one directory: tests use it to
run against a throwaway home, and users can use it to keep several setups apart.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from opsh.shell.errors import OpshError


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def history_file(self) -> Path:
        return self.data_dir / "history.jsonl"

    @property
    def hosts_file(self) -> Path:
        return self.config_dir / "hosts.toml"

    @classmethod
    def default(cls) -> Paths:
        home = os.environ.get("OPSH_HOME")
        if home:
            base = Path(home).expanduser()
            return cls(base, base)
        import platformdirs

        return cls(Path(platformdirs.user_config_dir("opsh")), Path(platformdirs.user_data_dir("opsh")))


@dataclass(frozen=True)
class ConnectionConfig:
    """A named connection: `connect NAME` opens `url` with these properties."""

    name: str
    url: str
    password_env: str | None = None
    readonly: bool = False
    tag: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TopologyConfig:
    """`[topology]`: the gateways `run` goes through, in ClusterShell's own terms.

    `routes` is topology.conf's [routes] (gateways -> the nodes they reach, a route per key;
    a route from this machine may be given or is implied); `ssh_options` is ClusterShell's
    `ssh_options`, passed on to the gateways for their ssh to the leaves; `gateway_python` is
    the interpreter that runs `-m ClusterShell.Gateway` on the gateways (its
    CLUSTERSHELL_GW_PYTHON_EXECUTABLE)."""

    routes: dict[str, str] = field(default_factory=dict)
    ssh_options: str | None = None
    gateway_python: str | None = None


@dataclass
class Config:
    paths: Paths
    settings: dict[str, Any] = field(default_factory=dict)
    connections: dict[str, ConnectionConfig] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    file: Path | None = None  # `--config FILE`, else the default config file
    topology: TopologyConfig = field(default_factory=TopologyConfig)

    @property
    def path(self) -> Path:
        return self.file or self.paths.config_file

    @classmethod
    def load(cls, paths: Paths | None = None, file: Path | None = None) -> Config:
        paths = paths or Paths.default()
        path = file or paths.config_file
        if not path.exists():
            return cls(paths, file=file)
        import tomllib  # only when there is a config file: it costs startup time

        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise OpshError(f"config {path}: {exc}") from None
        return cls(
            paths,
            dict(raw.get("settings", {})),
            _connections(raw, path),
            _groups(raw, path),
            raw,
            file,
            _topology(raw, path),
        )

    def save_setting(self, name: str, value: str | bool | int | float) -> None:
        """Write `name = value` into [settings] of the config file, keeping the rest of the file
        as the person wrote it (comments, order); the file is created 0600 when missing."""
        import tomllib

        path = self.path
        try:
            text = path.read_text(encoding="utf-8") if path.exists() else ""
        except (OSError, UnicodeDecodeError) as exc:
            raise OpshError(f"cannot read {path}: {exc}") from None
        updated = _with_setting(text, name, _toml_value(value))
        try:
            if tomllib.loads(updated).get("settings", {}).get(name) != value:
                raise ValueError("the value did not land in [settings]")
        except (tomllib.TOMLDecodeError, ValueError) as exc:
            raise OpshError(f"cannot save {name} in {path}: {exc}", "edit the file by hand") from None
        try:
            write_private(path, updated)
        except OSError as exc:
            raise OpshError(f"cannot save {name} in {path}: {exc.strerror or exc}") from None
        self.settings[name] = value


def _connections(raw: dict[str, Any], path: Path) -> dict[str, ConnectionConfig]:
    out: dict[str, ConnectionConfig] = {}
    for name, body in raw.get("connections", {}).items():
        if not isinstance(body, dict) or "url" not in body:
            raise OpshError(f"config {path}: [connections.{name}] needs a url")
        extra = {k: v for k, v in body.items() if k not in {"url", "password_env", "readonly", "tag"}}
        if "password" in extra:
            raise OpshError(
                f"config {path}: [connections.{name}] has a plain password",
                'use password_env = "VAR" or let opsh prompt',
            )
        out[name] = ConnectionConfig(
            name, str(body["url"]), body.get("password_env"), bool(body.get("readonly", False)), body.get("tag"), extra
        )
    return out


def _groups(raw: dict[str, Any], path: Path) -> dict[str, str]:
    groups = raw.get("groups", {})
    if not isinstance(groups, dict):
        raise OpshError(f'config {path}: [groups] must be a table of name = "hosts"')
    return {str(k): str(v) if not isinstance(v, list) else ",".join(map(str, v)) for k, v in groups.items()}


_TOPOLOGY_KEYS = {"routes", "ssh_options", "gateway_python"}


def _topology(raw: dict[str, Any], path: Path) -> TopologyConfig:
    body = raw.get("topology", {})
    if not isinstance(body, dict):
        raise OpshError(f"config {path}: [topology] must be a table")
    unknown = sorted(set(body) - _TOPOLOGY_KEYS)
    if unknown:
        raise OpshError(
            f"config {path}: unknown key in [topology]: {unknown[0]}", "routes, ssh_options, gateway_python"
        )
    routes = body.get("routes", {})
    if not isinstance(routes, dict) or not all(isinstance(v, str) and v.strip() for v in routes.values()):
        raise OpshError(
            f"config {path}: [topology.routes] must map gateways to the nodes they reach",
            '"bastion[1-2]" = "web[001-400]", as the [routes] of ClusterShell\'s topology.conf',
        )
    for key in ("ssh_options", "gateway_python"):
        if key in body and not isinstance(body[key], str):
            raise OpshError(f"config {path}: [topology] {key} must be a string")
    return TopologyConfig(
        {str(k): str(v) for k, v in routes.items()}, body.get("ssh_options"), body.get("gateway_python")
    )


def open_private(path: Path, append: bool = False) -> IO[str]:
    """A text file only its owner can read (recordings, transcripts): created 0600, and an
    existing file is narrowed to 0600 too, since it is about to hold this session's work."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise
    return os.fdopen(fd, "a" if append else "w", encoding="utf-8")


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (a temporary name, then a rename), mode 0600:
    config.toml and hosts.toml name servers and users, readable by their owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open_private(tmp) as out:
        out.write(text)
    tmp.replace(path)


def _toml_value(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    import json

    return json.dumps(value)  # a TOML basic string is a JSON string for what settings hold


_TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")


def _with_setting(text: str, name: str, value: str) -> str:
    """`text` with `name = value` set in its [settings] table (replaced, or added to it)."""
    lines = text.splitlines()
    key = re.compile(rf"^\s*{re.escape(name)}\s*=")
    start = next((i for i, line in enumerate(lines) if (m := _TABLE.match(line)) and m.group(1) == "settings"), None)
    if start is None:
        head = "\n".join(lines).rstrip("\n")
        return (head + "\n\n" if head else "") + f"[settings]\n{name} = {value}\n"
    end = next((i for i in range(start + 1, len(lines)) if _TABLE.match(lines[i])), len(lines))
    for i in range(start + 1, end):
        if key.match(lines[i]):
            lines[i] = f"{name} = {value}"
            return "\n".join(lines) + "\n"
    lines.insert(start + 1, f"{name} = {value}")
    return "\n".join(lines) + "\n"
