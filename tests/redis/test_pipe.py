"""`pipe FILE`: many commands through one connection in pipelined batches, with a report of
counts, ops/s and each failing command's line."""

from __future__ import annotations

import json
import os
import time
import tracemalloc

from opsh.commands.redis import pipe as pipe_module
from opsh.commands.redis import pipefile
from tests.helpers import Shell
from tests.redis.conftest import connected


def report_of(shell: Shell, line: str) -> dict:
    """The JSON report of a pipe, also when some commands failed (the line then fails)."""
    shell.ok("\\set format json")
    try:
        out = shell(line)
    finally:
        shell.ok("\\set format table")
    report = json.loads(out.text)
    assert out.ok == (report["errors"] == 0)
    return report


def test_pipe_sends_every_line_and_reports_counts(rsh, client, tmp_path):
    lines = [f"SET key:{i} value-{i}" for i in range(2500)] + ["INCR hits", "INCR hits"]
    (tmp_path / "load.txt").write_text("\n".join(lines) + "\n")
    report = rsh.json("pipe load.txt")
    assert report["commands"] == 2502 and report["errors"] == 0 and report["failures"] == []
    assert report["ops_per_second"] > 0
    assert client.get("key:2499") == "value-2499" and client.get("hits") == "2"


def test_errors_are_reported_with_their_line_numbers(rsh, client, tmp_path):
    (tmp_path / "mixed.txt").write_text(
        "# a comment, then a blank line\n\nSET word hello\nLPUSH word x\nSET ok 1\nNOSUCHCMD a\nSET 'open value\n"
    )
    out = rsh("pipe mixed.txt")
    assert not out.ok and out.exit_code == 1
    report = report_of(rsh, "pipe mixed.txt")
    assert report["commands"] == 4 and report["errors"] == 3
    assert [(f["line"], f["error"].split()[0]) for f in report["failures"]] == [
        (4, "WRONGTYPE"),
        (6, "ERR"),
        (7, "unbalanced"),
    ]
    assert client.get("ok") == "1"
    assert "| errors        | 3 " in out.text and "| line |" not in out.text.splitlines()[0]
    assert "WRONGTYPE" in out.text and "NOSUCHCMD a" in out.text


def test_quoting_in_the_file_follows_redis_cli(rsh, client, tmp_path):
    (tmp_path / "quoted.txt").write_text('SET "two words" "a\\tb"\nSET single \'it\\\'s\'\n')
    assert rsh.json("pipe quoted.txt")["errors"] == 0
    assert client.get("two words") == "a\tb" and client.get("single") == "it's"


def test_a_resp_file_as_for_redis_cli_pipe(rsh, client, tmp_path):
    def resp(*args: str) -> bytes:
        out = f"*{len(args)}\r\n".encode()
        for arg in args:
            out += f"${len(arg.encode())}\r\n{arg}\r\n".encode()
        return out

    data = resp("SET", "a", "1") + resp("SET", "b", "two\r\nlines") + resp("INCR", "b") + resp("GET", "a")
    (tmp_path / "load.resp").write_bytes(data)
    report = report_of(rsh, "pipe load.resp")
    assert report["commands"] == 4 and report["errors"] == 1
    # lines: SET a 1 is lines 1-7, the value with a newline makes SET b 8 lines (8-15)
    assert report["failures"][0]["line"] == 16 and report["failures"][0]["command"] == "INCR b"
    assert client.get("b") == "two\r\nlines"


def test_a_broken_resp_file_is_refused_before_anything_is_sent(rsh, client, tmp_path):
    (tmp_path / "bad.resp").write_bytes(b"*2\r\n$3\r\nGET\r\n$10\r\nshort\r\n")
    out = rsh("pipe bad.resp")
    assert not out.ok and "not valid RESP" in out.err


def test_select_in_the_file_moves_the_handle(rsh, redis_server, tmp_path):
    (tmp_path / "db.txt").write_text("SELECT 6\nSET in-six yes\n")
    assert rsh.json("pipe db.txt")["errors"] == 0
    assert rsh.session.current_handle.prompt_label() == "redis:r/6"
    assert redis_server.client(db=6).get("in-six") == "yes"


def test_dangerous_lines_ask_once_before_sending(tmp_path, redis_server, client):
    client.set("precious", 1)
    (tmp_path / "wipe.txt").write_text("SET a 1\nFLUSHDB\nSET b 2\n")
    shell = connected(tmp_path, redis_server.url, answers=["n"])
    out = shell("pipe wipe.txt")
    assert not out.ok and shell.io.asked == ["The file has FLUSHDB (line 2). Send it?"]
    assert client.get("precious") == "1" and client.get("a") is None
    shell.close()


def test_large_files_go_in_several_batches(rsh, client, tmp_path, monkeypatch):
    monkeypatch.setattr(pipe_module, "BATCH", 100)
    (tmp_path / "many.txt").write_text("".join(f"RPUSH list {i}\n" for i in range(1050)))
    assert rsh.json("pipe many.txt")["commands"] == 1050
    assert client.llen("list") == 1050 and client.lindex("list", -1) == "1049"


def test_passwords_in_failing_lines_are_not_shown(rsh, tmp_path):
    (tmp_path / "auth.txt").write_text("AUTH not-the-password\n")
    report = report_of(rsh, "pipe auth.txt")
    assert report["errors"] == 1 and "not-the-password" not in json.dumps(report)


def test_missing_file_and_usage(rsh):
    out = rsh("pipe nowhere.txt")
    assert not out.ok and out.err == "error: no such file: nowhere.txt\n"
    assert rsh("pipe").exit_code == 2


def test_pipe_from_local_mode(rsh, client, tmp_path):
    (tmp_path / "one.txt").write_text("SET from-local 1\n")
    rsh.ok("\\q")
    assert rsh.json("redis pipe one.txt")["commands"] == 1
    assert client.get("from-local") == "1"


def test_the_connection_is_usable_after_a_pipe(rsh, tmp_path):
    (tmp_path / "p.txt").write_text("PING\n" * 3000)
    rsh.ok("pipe p.txt")
    assert rsh("PING").text == "PONG\n"


def test_replies_of_every_type_are_counted_and_errors_keep_their_line(rsh, client, tmp_path, monkeypatch):
    """The bulk reply scanner across batches: nil, arrays, RESP3 maps, nested replies, errors."""
    monkeypatch.setattr(pipe_module, "BATCH", 3)
    client.rpush("l", "a", "b")
    client.hset("h", mapping={"f": "v"})
    lines = [
        "GET missing",
        "LRANGE l 0 -1",
        "HGETALL h",
        "LPUSH h x",
        "COMMAND INFO get",
        "LRANGE nothing 0 -1",
        "INCRBYFLOAT f 1.5",
        "NOSUCH",
        'SET "spaced key" "a b"',
        "ZADD z 1 m",
        "ZRANGE z 0 -1 WITHSCORES",
        "PING",
    ]
    (tmp_path / "mixed.txt").write_text("\n".join(lines) + "\n")
    report = report_of(rsh, "pipe mixed.txt")
    assert report["commands"] == 12 and report["errors"] == 2
    assert [f["line"] for f in report["failures"]] == [4, 8]
    assert client.get("spaced key") == "a b" and rsh("PING").text == "PONG\n"


def test_large_values_are_sent_in_smaller_batches(rsh, client, tmp_path):
    value = "x" * (3 << 20)
    (tmp_path / "big.txt").write_text(f"SET big1 {value}\nSET big2 {value}\nGET nope\n")
    assert rsh.json("pipe big.txt")["commands"] == 3
    assert client.strlen("big2") == 3 << 20


def test_a_transaction_in_the_file_is_followed(rsh, client, tmp_path):
    (tmp_path / "tx.txt").write_text("MULTI\nINCR c\nINCR c\nEXEC\n")
    assert rsh.json("pipe tx.txt")["errors"] == 0
    assert client.get("c") == "2"
    assert rsh.session.handles["r"].prompt_label() == "redis:r/0"


# ---------------------------------------------------------------- files that never end, files too large


def test_a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer(rsh, tmp_path):
    os.mkfifo(tmp_path / "commands.fifo")
    started = time.monotonic()
    out = rsh.fails("pipe commands.fifo", "commands.fifo is a fifo (named pipe), not a regular file")
    assert time.monotonic() - started < 2 and out.err.count("\n") == 1


def test_dev_zero_is_refused_instead_of_read_until_memory_runs_out(rsh):
    rsh.fails("pipe /dev/zero", "/dev/zero is a character device, not a regular file")


def test_a_large_file_is_streamed_not_held_in_memory(rsh, client, tmp_path):
    value = "v" * 1024
    path = tmp_path / "big.txt"
    with path.open("w") as out:
        for i in range(40_000):
            out.write(f"SET key:{i} {value}\n")
    assert path.stat().st_size > 40_000_000
    tracemalloc.start()
    try:
        report = rsh.json("pipe big.txt")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report["commands"] == 40_000 and report["errors"] == 0
    assert client.strlen("key:39999") == 1024
    assert peak < 16 << 20, f"{peak >> 20} MiB held for a {path.stat().st_size >> 20} MiB file"


def test_commands_cut_across_reads_arrive_whole_with_their_lines(rsh, client, tmp_path, monkeypatch):
    monkeypatch.setattr(pipefile, "CHUNK", 7)
    (tmp_path / "cut.txt").write_text('SET "long key" "a value"\n\n# note\nINCR n\nLPUSH n x\nSET tail end')
    report = report_of(rsh, "pipe cut.txt")
    assert report["commands"] == 4 and [f["line"] for f in report["failures"]] == [5]
    assert client.get("long key") == "a value" and client.get("tail") == "end"
    resp = b"*3\r\n$3\r\nSET\r\n$1\r\nr\r\n$13\r\ntwo\r\nlines\r\n!\r\n" + b"*2\r\n$4\r\nINCR\r\n$1\r\nr\r\n"
    (tmp_path / "cut.resp").write_bytes(resp)
    report = report_of(rsh, "pipe cut.resp")
    assert report["commands"] == 2 and [f["line"] for f in report["failures"]] == [10]
    assert client.get("r") == "two\r\nlines\r\n!"


def test_a_line_longer_than_any_command_is_refused_before_anything_is_sent(rsh, client, tmp_path, monkeypatch):
    monkeypatch.setattr(pipefile, "COMMAND_LIMIT", 1 << 20)
    (tmp_path / "long.txt").write_bytes(b"SET a 1\n" + b"x" * (3 << 20))
    rsh.fails("pipe long.txt", "long.txt: line 2 is longer than 1 MiB")
    assert client.get("a") is None


def test_a_resp_value_larger_than_redis_takes_is_refused_without_reading_it(rsh, client, tmp_path):
    (tmp_path / "huge.resp").write_bytes(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999999999\r\nxx")
    rsh.fails("pipe huge.resp", "huge.resp: the command at line 1 is larger than 512 MiB")
