"""MongoDB: 100,000 documents through `find`, to a JSON file and to a terminal, and the first
prompt of Mongo mode; opsh vs mongosh vs a bare pymongo loop, against a MongoDB-wire server
started here, all in the same run (issue 16).

Every tool runs as a whole process, as a user runs it, with the same query text:

    to a JSON file   opsh -c 'connect URL; db.bench.find() \\> out.json'   (a JSON array)
                     mongosh --quiet URL --eval 'EJSON.stringify(db.bench.find().toArray())' > out.json
                     python: for doc in find(): json_util.dumps(doc) ...                  (the floor)
    to a terminal    opsh -c '...; db.bench.find().toArray()' in a pty      (mongosh's layout)
                     mongosh --quiet URL --eval 'db.bench.find().toArray()' in a pty
                     python: for doc in find(): print(doc), in a pty                      (the floor)
    first prompt     opsh, then `connect URL` typed at its prompt, until the mongo: prompt
                     mongosh URL, until its prompt

Targets: opsh <= 0.5x mongosh, and within 1.5x the pymongo loop where there is one. The tools
take turns, REPEAT rounds; medians are compared. The exit status is 1 when a target is missed.
Also printed, not a target: the time of the fetch alone (a pymongo process reading every
document and writing nothing), which all three pay to the server, and each tool's time over it.
The pty harness sets PROMPT_TOOLKIT_NO_CPR=1, as the startup bench does: it does not answer
prompt-toolkit's cursor-position query, which a terminal answers at once.

    tests/bench/run mongo
"""

from __future__ import annotations

import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pexpect

from tests.bench.common import opsh_bin, report
from tests.servers.mongo import start_mongo

DOCUMENTS = 100_000
REPEAT = 5
PROMPT_REPEAT = 7
ROOT = Path(__file__).resolve().parents[2]

PYMONGO_TO_FILE = """
import sys, pymongo
from bson import json_util
from bson.json_util import RELAXED_JSON_OPTIONS
client = pymongo.MongoClient(sys.argv[1])
with open(sys.argv[2], "w") as out:
    out.write("[")
    for i, doc in enumerate(client.b.bench.find()):
        out.write((",\\n" if i else "\\n") + json_util.dumps(doc, json_options=RELAXED_JSON_OPTIONS))
    out.write("\\n]\\n")
"""
FETCH_ONLY = """
import sys, pymongo
client = pymongo.MongoClient(sys.argv[1])
for doc in client.b.bench.find():
    pass
"""
PYMONGO_TO_TERMINAL = """
import sys, pymongo
client = pymongo.MongoClient(sys.argv[1])
for doc in client.b.bench.find():
    print(doc)
"""


def mongosh() -> str:
    return os.environ.get("OPSH_MONGOSH") or str(ROOT / ".node" / "node_modules" / ".bin" / "mongosh")


def seed(url: str) -> None:
    import datetime as dt

    import pymongo

    client = pymongo.MongoClient(url)
    coll = client.b.bench
    coll.drop()
    start = dt.datetime(2024, 1, 1)
    batch = []
    for i in range(DOCUMENTS):
        batch.append(
            {
                "n": i,
                "name": f"user-{i}",
                "email": f"user{i}@example.com",
                "score": i / 7,
                "active": i % 3 == 0,
                "at": start + dt.timedelta(seconds=i),
                "tags": ["a", "b"] if i % 2 else ["c"],
                "address": {"city": "Oslo", "zip": f"{i % 10000:04d}"},
            }
        )
        if len(batch) == 10_000:
            coll.insert_many(batch)
            batch = []
    client.close()


def in_pty(argv: list[str], env: dict[str, str]) -> int:
    """Run `argv` with a pty as its terminal, reading (and dropping) all it writes; returns
    the number of bytes written."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    total = 0
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            total += len(chunk)
        elif proc.poll() is not None:
            break
    proc.wait()
    os.close(master)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode})")
    return total


def to_file(argv: list[str], out: Path | None, env: dict[str, str]) -> Callable[[], None]:
    def run() -> None:
        if out is None:
            subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
            return
        with open(out, "wb") as target:
            subprocess.run(argv, check=True, env=env, stdout=target)

    return run


def first_prompt(argv: list[str], env: dict[str, str], ready: str, then: tuple[str, str] | None = None) -> float:
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", dimensions=(40, 120), timeout=60)
    child.expect_exact(ready)
    if then is not None:
        line, mode_prompt = then
        child.send(line + "\r")
        child.expect_exact(mode_prompt)
    elapsed = time.perf_counter() - start
    child.terminate(force=True)
    return elapsed


def medians(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    for run in runs.values():
        run()  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(times) for name, times in samples.items()}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-mongo-"))
    home = work / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), OPSH_HOME=str(home / "opsh"), TERM="xterm", NO_COLOR="1", PAGER="cat")
    env["PROMPT_TOOLKIT_NO_CPR"] = "1"
    env["MONGOSH_NO_UPDATE_CHECK"] = "1"
    python = sys.executable
    with start_mongo(work / "mongo") as server:
        url = f"mongodb://{server.host}:{server.port}/b"
        seed(url)
        opsh = opsh_bin()
        connect = f"connect {url} as b"
        files = medians(
            {
                "opsh": to_file([opsh, "-c", f"{connect}; db.bench.find() \\> {work / 'opsh.json'}"], None, env),
                "mongosh": to_file(
                    [mongosh(), "--quiet", "--norc", url, "--eval", "EJSON.stringify(db.bench.find().toArray())"],
                    work / "mongosh.json",
                    env,
                ),
                "pymongo": to_file([python, "-c", PYMONGO_TO_FILE, url, str(work / "pymongo.json")], None, env),
                "fetch alone": to_file([python, "-c", FETCH_ONLY, url], None, env),
            },
            REPEAT,
        )
        terminal = medians(
            {
                "opsh": lambda: in_pty([opsh, "-c", f"{connect}; db.bench.find().toArray()"], env),
                "mongosh": lambda: in_pty(
                    [mongosh(), "--quiet", "--norc", url, "--eval", "db.bench.find().toArray()"], env
                ),
                "pymongo": lambda: in_pty([python, "-c", PYMONGO_TO_TERMINAL, url], env),
            },
            REPEAT,
        )
        prompt = medians(
            {
                "opsh": lambda: first_prompt([opsh], env, "\x1b[?2004h", (connect, "mongo:b/b")),
                "mongosh": lambda: first_prompt([mongosh(), "--norc", url], env, "b>"),
            },
            PROMPT_REPEAT,
        )
    missed = False
    fetch = files.pop("fetch alone")
    for title, figures in (
        (f"{DOCUMENTS:,} documents of find() to a JSON file", files),
        (f"{DOCUMENTS:,} documents of find().toArray() to a terminal (pty)", terminal),
    ):
        ratios = [("opsh/mongosh", figures["opsh"] / figures["mongosh"], 0.5)]
        ratios.append(("opsh/pymongo loop", figures["opsh"] / figures["pymongo"], 1.5))
        report(
            f"{title} (median of {REPEAT}, whole processes)",
            [(name, seconds * 1000, "ms") for name, seconds in figures.items()] + [("fetch alone", fetch * 1000, "ms")],
            ratios,
        )
        beyond = {name: seconds - fetch for name, seconds in figures.items()}
        print("  beyond the fetch: " + ", ".join(f"{name} {extra * 1000:.0f} ms" for name, extra in beyond.items()))
        missed = missed or any(ratio > target for _, ratio, target in ratios)
    prompt_ratio = prompt["opsh"] / prompt["mongosh"]
    report(
        f"first prompt of Mongo mode (median of {PROMPT_REPEAT}): opsh + connect vs mongosh URL",
        [(name, seconds * 1000, "ms") for name, seconds in prompt.items()],
        [("opsh/mongosh", prompt_ratio, 0.5)],
    )
    missed = missed or prompt_ratio > 0.5
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
