"""One question to many databases: `sql|redis|mongo --on TARGETS ...` (issue 18, part 1).

Neutral: no backend is imported here, and no backend imports another. A backend hands in a
small `Backend` hook (which handles are its own, which URL schemes its config connections
use, how to run one statement on a handle); the rest is shared:

    targets.py   which connections and handles an expression names (range, @group, `,`,
                 `!x` / -x, @all, @failed, @ok), and the outcome kept for @failed / @ok
    work.py      one target's share, run by the shared fan-out engine (../fanout/): its
                 connection, the statement, the answer; Ctrl-C cancels the statement
    asking.py    questions relayed from the workers to the main thread: passwords as they
                 come, a confirmation asked once for every target
    merge.py     the answers as one Result: a table with a leading `target` column, per-target
                 headings when the column sets differ, `--group`, and a summary of failures
"""
