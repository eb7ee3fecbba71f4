"""The `opsh` command: options, then a REPL, a `-c` string, a script file or piped stdin.

Exit status: 0 when everything succeeded, 1 when a command failed, 2 for a usage error (of
opsh itself or of a command), or the code given to `exit N`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from opsh.shell import __version__, formats

if TYPE_CHECKING:
    from opsh.shell.dispatch import Engine


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsh",
        description="An interactive shell for operations work: files, hosts, SQL, Redis, MongoDB, caches and queues.",
        epilog=(
            "examples:\n  opsh\n  opsh -c 'sys; ps python'\n  opsh deploy.opsh --var env=staging\n"
            "  echo 'hash sha256 --text hi' | opsh"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("script", nargs="?", help="a .opsh script to replay")
    parser.add_argument("-c", dest="commands", metavar="CMDS", help="run these commands (separated by ;) and exit")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="set a variable (repeatable)")
    parser.add_argument("--yes", action="store_true", help="confirm dangerous actions (for scripts)")
    parser.add_argument(
        "--keep-going", action="store_true", help="in a script, -c or piped input: go on after a failing line"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the script's lines expanded, run nothing")
    parser.add_argument("--step", action="store_true", help="ask before each line of the script")
    parser.add_argument(
        "--check", type=Path, metavar="TRANSCRIPT", help="compare the script's output with a transcript"
    )
    parser.add_argument(
        "--format", choices=formats.names(), metavar="FORMAT", help=f"output format: {', '.join(formats.names())}"
    )
    parser.add_argument("--config", type=Path, help="config file (default: the platform's config dir)")
    parser.add_argument("--no-history", action="store_true", help="do not write the history file")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--version", action="version", version=f"opsh {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    # Ctrl-C must cancel the running command even when opsh was started by a program that
    # ignores SIGINT (a background job of a non-interactive shell): Python then leaves it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    options = build_parser().parse_args(argv)
    try:
        return _run(options)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    finally:
        _quiet_flush()


def _run(options: argparse.Namespace) -> int:
    from opsh import commands
    from opsh.history.store import HistoryStore
    from opsh.shell.config import Config, Paths
    from opsh.shell.dispatch import Engine
    from opsh.shell.errors import OpshError, describe, for_stream
    from opsh.shell.interact import BatchInteraction, TerminalInteraction
    from opsh.shell.registry import Registry
    from opsh.shell.session import Session

    if options.debug:
        from opsh.shell.errors import enable_debug_log

        enable_debug_log()
    interactive = options.commands is None and options.script is None and sys.stdin.isatty()
    io = (
        TerminalInteraction(options.yes)
        if interactive or (options.step and sys.stdin.isatty())
        else BatchInteraction(options.yes)
    )
    paths = Paths.default()
    try:
        config = Config.load(paths, options.config)
        store = None if options.no_history else HistoryStore(paths.history_file)
        session = Session(Registry(commands.modules), config, io, debug=options.debug, history=store)
        for pair in options.var:
            name, eq, value = pair.partition("=")
            if not eq:
                raise OpshError(f"--var {pair!r}: expected NAME=VALUE")
            session.set_variable(name, value)
        if options.format:
            session.settings.set("format", options.format)
    except OpshError as exc:
        sys.stderr.write(for_stream(describe(exc).line(), sys.stderr) + "\n")
        return 2
    engine = Engine(session)
    try:
        code = _dispatch(engine, options, interactive)
    finally:
        session.close_all()
    return session.exit_code if session.exit_code is not None else code


def _dispatch(engine: Engine, options: argparse.Namespace, interactive: bool) -> int:
    if options.script is not None:
        return _replay(engine, options)
    if options.commands is not None or not interactive:
        return _batch(engine, options)
    from opsh.history.store import prompt_history
    from opsh.shell.repl import run_repl

    run_repl(engine, prompt_history(engine.session.history))
    return 0


def _batch(engine: Engine, options: argparse.Namespace) -> int:
    """`-c` or piped stdin: lines run as if typed, stopping at the first failure (exit 1)
    unless --keep-going; a failed connect or use stops it regardless."""
    engine.batch, engine.keep_going = True, options.keep_going
    lines = [options.commands + "\n"] if options.commands is not None else sys.stdin
    for line in lines:
        engine.feed(line)
        if engine.stopped or engine.session.exit_code is not None:
            break
    engine.finish()
    engine.end_batch()
    return engine.exit_status()


def _replay(engine: Engine, options: argparse.Namespace) -> int:
    """`opsh FILE`: the same replay as the `replay` command, with the options given to opsh."""
    from opsh.history.script import Options, ScriptReplay, replay_result

    check = engine.session.path(options.check) if options.check else None
    replay_options = Options(options.keep_going, options.dry_run, options.step, check)
    try:
        report = ScriptReplay(engine, replay_options).run(engine.session.path(options.script))
        if not replay_options.dry_run:
            engine.end_batch()
        engine.emit(replay_result(report, replay_options, options.script), None, None, [])
    except Exception as exc:  # noqa: BLE001 - reported like any other failure
        engine.report(exc)
        return 1
    if not report.ok:
        return engine.exit_status() or 1  # 1 as well when only --check found differences
    return engine.exit_status()


def _quiet_flush() -> None:
    """A closed stdout (`opsh -c ... | head`) must not end in a traceback at exit."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    raise SystemExit(main())
