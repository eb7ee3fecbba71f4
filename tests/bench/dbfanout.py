"""One query on four MariaDB targets: `sql --on @shards` against the mariadb client run four
times, one after another and in parallel (shell `&` + `wait`).

A MariaDB test server is started here with four databases (the shards); the query is an
aggregate over a SEQUENCE-engine table (computed on the fly: the same server work for every
client). Measured in the same run, wall-clock medians:

- `opsh -c 'sql --on @shards "Q"'`: one process, four connections in parallel;
- `mariadb -B -e Q` four times in a row (what a for loop in a shell does);
- `mariadb -B -e Q &` four times, then `wait` (the shell's own fan-out);
- `opsh -c 'sql --on shop1 "Q"'`: one target, for opsh's fixed cost (start, import, connect);
- the same fan-out typed in a running session (in-process: what the person at the prompt
  waits for, no start-up).

Target: opsh's fan-out <= 1.0x the sequential loop (the parallel run pays off past opsh's
start-up). The `&` run is shown for scale: it is the floor of a fan-out on this machine.

    tests/bench/run dbfanout
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.bench.common import exit_unless, opsh_bin, ref_bin, report
from tests.servers.mariadb import start_mariadb

SHARDS = 4
REPEAT = 5
QUERY = "SELECT SUM(seq % 7) AS total FROM seq_1_to_8000000"


def median_wall(argv: list[str], env: dict[str, str], repeat: int = REPEAT) -> float:
    subprocess.run(argv, check=True, capture_output=True, env=env)  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = subprocess.run(argv, check=True, capture_output=True, text=True, env=env)
        samples.append(time.perf_counter() - start)
        assert "total" in out.stdout or out.stdout.strip(), out.stdout
    return statistics.median(samples)


def in_session(home: Path, env: dict[str, str]) -> float:
    """The fan-out typed at a running opsh (in this process): fresh connections every time."""
    from tests.helpers import Shell

    before = dict(os.environ)
    os.environ.update(env)
    shell = Shell(home.parent / "session", config=(home / "config.toml").read_text())
    try:
        line = f'sql --on @shards "{QUERY}"'
        shell.ok(line)
        samples = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            shell.ok(line)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)
    finally:
        shell.close()
        os.environ.clear()
        os.environ.update(before)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="opsh-bench-dbfanout-"))
    home = work / "opsh"
    home.mkdir()
    with start_mariadb(work / "mariadb") as db:
        names = [f"shard{n}" for n in range(1, SHARDS + 1)]
        for name in names:
            db.root_sql(f"CREATE DATABASE {name}")
        url = f"mysql://{db.user}@{db.host}:{db.port}"
        entry = '[connections.shop{n}]\nurl = "{url}/{name}"\npassword_env = "BENCH_DB_PW"'
        config = [entry.format(n=n, url=url, name=name) for n, name in enumerate(names, 1)]
        (home / "config.toml").write_text("\n".join(config) + '\n[groups]\nshards = "shop[1-4]"\n')
        env = dict(os.environ, OPSH_HOME=str(home), NO_COLOR="1", BENCH_DB_PW=db.password, MYSQL_PWD=db.password)
        client = [ref_bin("mariadb"), "--no-defaults", "-h", db.host, "-P", str(db.port), "-u", db.user, "-B"]
        one_client = " ".join([*client, names[0], "-e", f"'{QUERY}'"])
        loop = "; ".join(one_client.replace(names[0], name, 1) for name in names)
        background = " & ".join(one_client.replace(names[0], name, 1) for name in names) + " & wait"
        fan = median_wall([opsh_bin(), "--no-history", "-c", f'sql --on @shards "{QUERY}"'], env)
        single = median_wall([opsh_bin(), "--no-history", "-c", f'sql --on shop1 "{QUERY}"'], env)
        sequential = median_wall(["bash", "-c", loop], env)
        parallel = median_wall(["bash", "-c", background], env)
        inside = in_session(home, env)
    met = report(
        f"one aggregate on {SHARDS} MariaDB databases (median of {REPEAT}, wall seconds)",
        [
            ("opsh sql --on @shards (4 in parallel)", fan, "s"),
            ("opsh sql --on shop1 (one target)", single, "s"),
            ("mariadb -B x4, sequential", sequential, "s"),
            ("mariadb -B x4, parallel (& + wait)", parallel, "s"),
            ("opsh sql --on @shards in a running session", inside, "s"),
        ],
        [
            ("opsh fan-out / mariadb sequential", fan / sequential, 1.0),
            ("opsh fan-out / mariadb parallel", fan / parallel, None),
            ("opsh 4 targets / opsh 1 target", fan / single, None),
            ("in a session / mariadb parallel", inside / parallel, None),
        ],
    )
    exit_unless(met)


if __name__ == "__main__":
    main()
