"""One question to many databases: `sql|redis|mongo --on TARGETS ...` (issue 18, part 1).

Neutral: no backend is imported here, and no backend imports another. A backend hands in a
small `Backend` hook (which handles are its own, which URL schemes its config connections
use, how to run one statement on a handle); the rest is shared:

    targets.py   which connections and handles an expression names (range, @group, `,`,
                 `!x` / -x, @all, @failed, @ok), and the outcome kept for @failed / @ok
    engine.py    the parallel run: one connection per target, bounded by `fanout`, questions
                 (passwords, confirmations) relayed to the main thread and asked once, Ctrl-C
                 cancelling every running statement
    merge.py     the answers as one Result: a table with a leading `target` column, per-target
                 headings when the column sets differ, `--group`, and a summary of failures
"""
