"""Shared layers: what several areas and backends build on, never a command of its own.

    paths.py     the session's paths (relative to its directory, `~`, globbing)
    targets.py   target expressions (`web[01-20]`, `@group`, `a,b,c`, `!x`), shared by run/copy
                 and `--on`
    nodeset.py   host ranges (`web[01-20]`) folded and unfolded
    fanout/      the one fan-out engine: work on many targets in worker threads, its events
                 (start, output, progress, question, done, cancelled) handed to a Handler on
                 the main thread, one Ctrl-C path; used by run, copy, run --via and --on
    many/        `sql|redis|mongo --on TARGETS`: one question to many databases

Modules here import no backend, and no backend's code lives here: a backend lends what the
shared layer needs through a small hook (see many/targets.py's Backend).
"""
