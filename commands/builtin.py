"""The shell's own verbs: help, exit, set/unset, connect/use/close/status, echo, sleep."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from opsh.shell import formats
from opsh.shell.connect import already_open, open_connection
from opsh.shell.errors import NotFound, UsageError
from opsh.shell.handles import Handle
from opsh.shell.result import Result
from opsh.shell.session import Session
from opsh.shell.spec import Args, Command, Kind, Param, arg, command, opt

# ---------------------------------------------------------------- help


@command(
    "help",
    area="shell",
    aliases=("?",),
    summary="list commands by area, or show one command's usage and examples",
    params=(arg("command", Kind.COMMAND, required=False, multiple=True, help="a command (and subcommand)"),),
    examples=("help", "help ls", "help archive extract"),
)
def help_cmd(session: Session, args: Args) -> Result:
    return _help_page(_help_text(session, args))


def _help_page(text: str) -> Result:
    """Help wraps to the terminal's width; a file or a pipe gets the lines as written, unless
    $COLUMNS says how wide (`COLUMNS=80 opsh -c 'help run' | less`, as argparse and git do)."""
    from opsh.shell.render import wrapped

    def present(fmt: str, sink: Any) -> str | None:
        width = sink.width if sink.is_terminal else _columns()
        return wrapped(text, width) if width else None

    return Result.of_text(text, present=present)


def _columns() -> int | None:
    """$COLUMNS, when it holds a usable width."""
    import os

    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() and int(value) >= 20 else None


def _help_text(session: Session, args: Args) -> str:
    if not args.command:
        return _overview(session)
    cmd = session.registry.get(args.command[0])
    prefix = cmd.name + " "
    for word in args.command[1:]:
        sub = cmd.subcommand(word)
        if sub is None:
            raise NotFound(
                f"{cmd.name} has no subcommand {word!r}", f"one of: {', '.join(s.name for s in cmd.subcommands)}"
            )
        prefix, cmd = prefix + sub.name + " ", sub
    if cmd is SetCommand:
        return SetCommand.help_page(session)
    return cmd.help_text(prefix[: -len(cmd.name) - 1].strip())


def _overview(session: Session) -> str:
    lines = ["opsh commands by area (`help CMD` for usage and examples):", ""]
    width = max((len(c.name) for _, cmds in session.registry.by_area() for c in cmds), default=8)
    for area, cmds in session.registry.by_area():
        lines.append(f"{area}:")
        lines += [f"  {c.name.ljust(width)}  {c.summary}" for c in cmds]
        lines.append("")
    schemes = ", ".join(f"{s}://" for s in sorted(session.registry.connectors))
    if schemes:
        lines += ["modes (`connect URL [as NAME]`, then bare lines go to that backend):", f"  {schemes}", ""]
    lines += [
        "Everywhere: `!cmd` runs a local shell command; `${name}` expands a variable;",
        "`> file`, `>> file`, `| cmd` (or `\\> file`, `\\| cmd` in any mode) redirect output;",
        f"`--format FORMAT` on any command, FORMAT one of {', '.join(formats.names())}",
        "(`help set` says what each one is); `\\cmd` runs a shell command",
        "inside a backend mode, `\\q` goes back to local; Ctrl-C cancels, Ctrl-D exits.",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- leaving


@command(
    "exit",
    area="shell",
    aliases=("quit",),
    summary="leave opsh (Ctrl-D does the same)",
    params=(arg("code", Kind.INT, required=False, default=0, help="exit status"),),
    examples=("exit", "exit 3"),
)
def exit_cmd(session: Session, args: Args) -> Result:
    session.exit_code = args.code
    return Result.empty()


@command("q", area="shell", summary="back to the local mode", hidden=True)
def back_to_local(session: Session, args: Args) -> Result:
    session.use("local")
    return Result.empty(status="local mode")


# ---------------------------------------------------------------- settings and variables


class SetCommand(Command):
    name = "set"
    area = "shell"
    summary = "show or change settings (`help set` lists every one) and variables"
    usage = "set [SETTING [VALUE]] | set NAME VALUE | set var NAME [VALUE]"
    params = (
        arg("name", Kind.NAME, required=False, help="a setting or variable name (`var`: always a variable)"),
        arg("value", Kind.REST, required=False, help="new value; for a variable, the rest of the line"),
    )
    examples = (
        "set",
        "set format json",
        "set table_style markdown   # `table` drawn as GitHub Markdown, to paste",
        "set pager off",
        "set timeout 10s",
        "set editing_mode vi",
        "set env prod",
        "set var format2 x     # a variable whose name is close to a setting",
        "echo ${env}",
    )

    @classmethod
    def help_text(cls, prefix: str = "") -> str:
        return super().help_text(prefix) + "\n\n" + _formats_help()

    @classmethod
    def help_page(cls, session: Session) -> str:
        """`help set`: the usage, then every setting of the session's table, then the formats."""
        settings = "\n".join(session.settings.help_lines())
        return super().help_text() + "\n\n" + settings + "\n\n" + _formats_help()

    def run(self, session: Session, args: Args) -> Result:
        if args.name is None:
            return _all_settings(session)
        name, words = args.name, list(args.value)
        if name == "var":
            if not words:
                raise UsageError("write `set var NAME VALUE`")
            return _set_variable(session, words[0], " ".join(words[1:]), len(words) > 1)
        if name in session.settings:
            return _set_setting(session, name, " ".join(words) if words else None)
        meant = _misspelt_setting(name, session.settings.names())
        if meant and words:
            raise UsageError(
                f"no setting named {name!r}: did you mean {meant}?",
                f"for a variable of that name: set var {name} {' '.join(words)}",
            )
        return _set_variable(session, name, " ".join(words), bool(words))

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[str] | None:
        """After a setting's name, its values (choices, on/off)."""
        if param.name != "value" or args.get("value"):
            return None
        spec = session.settings.specs.get(str(args.get("name", "")))
        if spec is None:
            return []
        values = spec.choices if spec.kind is Kind.CHOICE else ("on", "off") if spec.kind is Kind.BOOL else ()
        return [v for v in values if v.startswith(prefix)]


def _formats_help() -> str:
    """The formats `set format`, `--format` and `> FILE.EXT` take, from the registry."""
    width = max(len(f.name) for f in formats.REGISTRY)
    lines = ["formats (set format NAME, --format NAME on any command, or > FILE.EXT):"]
    for fmt in formats.REGISTRY:
        extensions = f" ({', '.join(fmt.extensions)})" if fmt.extensions else ""
        lines.append(f"  {fmt.name.ljust(width)}  {fmt.summary}{extensions}")
    styles = ", ".join(formats.table_styles())
    lines += ["", f"table styles (set table_style NAME; {formats.BOX}, opsh's own box, is the default):", f"  {styles}"]
    return "\n".join(lines)


def _misspelt_setting(name: str, settings: list[str]) -> str | None:
    """The setting `name` is a typo of (`fromat`, `pagr`, `timout`): one edit away (two for a
    long name), a letter swap counting as one. Short words stay variables (`col`, `row`), and so
    do a short word and its extension (`raws`, `colo`)."""
    if len(name) < 4:
        return None
    allowed = 1 if len(name) <= 5 else 2
    for setting in settings:
        shorter, longer = sorted((name.lower(), setting), key=len)
        if longer.startswith(shorter) and len(shorter) <= 4:
            continue
        if len(longer) - len(shorter) <= 1 and _edits(name.lower(), setting) <= allowed:
            return setting
    return None


def _edits(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from `a` to `b`."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb)))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _set_setting(session: Session, name: str, value: str | None) -> Result:
    if value is None:
        return Result.of_text(session.settings.display(name))
    chosen = session.settings.set(name, value)
    if session.settings.specs[name].persist:
        session.config.save_setting(name, chosen)
        return Result.empty(status=f"{name} = {session.settings.display(name)} (saved in {session.config.path})")
    return Result.empty(status=f"{name} = {session.settings.display(name)}")


def _set_variable(session: Session, name: str, value: str, given: bool) -> Result:
    if not given:
        if name not in session.variables:
            raise NotFound(f"no setting or variable named {name!r}", "`set` lists them")
        return Result.of_text(session.variables[name])
    session.set_variable(name, value)
    return Result.empty()


def _all_settings(session: Session) -> Result:
    rows: list[list[Any]] = []
    for name, spec in session.settings.specs.items():
        rows.append([name, session.settings.display(name), "setting", spec.help])
    for name, value in sorted(session.variables.items()):
        rows.append([name, value, "variable", ""])
    return Result.table(["name", "value", "kind", "about"], rows)


@command(
    "unset",
    area="shell",
    summary="remove a variable, or reset a setting to its default",
    params=(arg("name", Kind.NAME, multiple=True),),
    examples=("unset env", "unset format"),
)
def unset_cmd(session: Session, args: Args) -> Result:
    for name in args.name:
        if name in session.settings:
            session.settings.reset(name)
        elif session.variables.pop(name, None) is None:
            raise NotFound(f"no setting or variable named {name!r}")
    return Result.empty()


@command(
    "echo",
    area="shell",
    summary="print its arguments (variables expanded)",
    params=(arg("words", Kind.REST, required=False),),
    examples=("echo hello", "echo ${host:-none}", "echo report > out.txt"),
)
def echo_cmd(session: Session, args: Args) -> Result:
    return Result.of_text(" ".join(args.words))


CLEAR_SCREEN = "\x1b[H\x1b[2J\x1b[3J"


@command(
    "clear",
    area="shell",
    summary="clear the screen and its scrollback (Ctrl-L clears the screen while typing)",
    examples=("clear",),
)
def clear_cmd(session: Session, args: Args) -> Result:
    """Only a terminal is cleared: in a file, a pipe or a transcript `clear` leaves nothing."""
    return Result.empty(present=lambda fmt, sink: CLEAR_SCREEN if sink.is_terminal else "")


@command(
    "sleep",
    area="shell",
    summary="wait (Ctrl-C cancels); useful in scripts",
    params=(arg("duration", Kind.DURATION, help="30, 1.5, 500ms, 2m"),),
    examples=("sleep 2", "sleep 500ms"),
)
def sleep_cmd(session: Session, args: Args) -> Result:
    deadline = time.monotonic() + args.duration
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.1))
    return Result.empty()


# ---------------------------------------------------------------- handles


@command(
    "connect",
    area="shell",
    summary="open a connection and switch to its mode",
    params=(
        arg(
            "target",
            Kind.URL,
            help="a URL (mysql://, sqlite:///, redis://, mongodb://, memcache://, tarantool://, ssh://)"
            " or a configured name",
        ),
        arg("alias", Kind.TEXT, required=False, multiple=True, metavar="as NAME", help="handle name"),
        opt("--readonly", help="refuse writes on this handle"),
        opt("--tag", kind=Kind.TEXT, help="label shown in the prompt (e.g. prod)"),
        opt("--accept-new", help="trust an unknown SSH host key (never a changed one)"),
        opt("--background", help="open without switching to its mode"),
    ),
    switches_mode=True,
    examples=(
        "connect sqlite:///app.db         # relative; sqlite:////abs/path.db is absolute",
        "connect mysql://app@127.0.0.1:3306/shop as shop",
        "connect redis://127.0.0.1:6379/0",
        "connect redis+unix:///run/redis/redis.sock?db=0   # unix:// too",
        "connect mongodb://127.0.0.1:27017/test",
        "connect mongodb+srv://cluster0.example.net/app    # hosts from DNS SRV records",
        "connect mysql://app@localhost/shop?socket=/run/mysqld/mysqld.sock",
        "connect ssh://deploy@web1:22",
        "connect shop            # a [connections.shop] entry of the config",
    ),
)
def connect_cmd(session: Session, args: Args) -> Result:
    name = _alias(args.alias)
    same = already_open(session, args.target, name, args.readonly)
    if same is not None:
        if not args.background:
            session.use(same.name)
        return Result.empty(status=f"already connected: {same.name} ({same.kind} {same.endpoint})")
    handle = open_connection(session, args.target, name, args.readonly, args.tag, args.accept_new)
    session.add_handle(handle, make_current=not args.background)
    return Result.empty(status=f"connected: {handle.name} ({handle.kind} {handle.endpoint})")


def _alias(words: list[str]) -> str | None:
    if not words:
        return None
    if words[0] == "as":
        words = words[1:]
    if len(words) != 1:
        raise UsageError("write `connect URL as NAME`")
    return words[0]


@command(
    "use",
    area="shell",
    summary="make a handle current (bare lines go to it); `use local` goes back",
    params=(arg("name", Kind.HANDLE),),
    switches_mode=True,
    examples=("use shop", "use local"),
)
def use_cmd(session: Session, args: Args) -> Result:
    session.use(args.name)
    return Result.empty(status=f"now in {args.name}")


@command(
    "close",
    area="shell",
    summary="close a handle, or all of them",
    params=(arg("name", Kind.HANDLE, multiple=True, metavar="NAME|all"),),
    examples=("close shop", "close all"),
)
def close_cmd(session: Session, args: Args) -> Result:
    if args.name == ["all"]:
        count = len(session.handles)
        session.close_all()
        return Result.empty(status=f"closed {count} handle{'s' if count != 1 else ''}")
    for name in args.name:
        session.close_handle(name)
    return Result.empty(status=f"closed {', '.join(args.name)}")


@command(
    "status",
    area="shell",
    summary="open handles: name, kind, endpoint, state and round-trip latency",
    examples=("status", "status --format json"),
)
def status_cmd(session: Session, args: Args) -> Result:
    import socket

    rows: list[list[Any]] = [["local", "local", socket.gethostname(), "ready" + _mark(session, None), None]]
    for handle in session.handles.values():
        rows.append([handle.name, handle.kind, handle.endpoint, *_probe(handle, session)])
    return Result.table(["name", "kind", "endpoint", "state", "latency_ms"], rows)


def _mark(session: Session, name: str | None) -> str:
    return " (current)" if session.current == name else ""


def _probe(handle: Handle, session: Session) -> list[Any]:
    started = time.perf_counter()
    try:
        handle.ping()
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - a dead handle is a state to show, not a failure
        from opsh.shell.errors import describe

        return [f"down: {describe(exc).message}{_mark(session, handle.name)}", None]
    latency = round((time.perf_counter() - started) * 1000, 2)
    return [handle.state() + _mark(session, handle.name), latency]


@command(
    "config",
    area="shell",
    summary="where opsh keeps its config, history and hosts file; configured connections",
    examples=("config",),
)
def config_cmd(session: Session, args: Args) -> Result:
    paths = session.config.paths
    rows = [
        ["config file", str(paths.config_file), "exists" if paths.config_file.exists() else "absent"],
        ["history", str(paths.history_file), "exists" if paths.history_file.exists() else "absent"],
        ["hosts file", str(paths.hosts_file), "exists" if paths.hosts_file.exists() else "absent"],
    ]
    for name, conn in session.config.connections.items():
        flags = ", ".join(
            f
            for f, on in (
                ("readonly", conn.readonly),
                (f"tag={conn.tag}", bool(conn.tag)),
                (f"password from ${conn.password_env}", bool(conn.password_env)),
            )
            if on
        )
        rows.append([f"connection {name}", conn.url, flags])
    return Result.table(["what", "where", "note"], rows)


COMMANDS = (
    help_cmd,
    exit_cmd,
    back_to_local,
    SetCommand,
    unset_cmd,
    echo_cmd,
    clear_cmd,
    sleep_cmd,
    connect_cmd,
    use_cmd,
    close_cmd,
    status_cmd,
    config_cmd,
)
