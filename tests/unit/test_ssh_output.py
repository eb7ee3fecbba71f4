"""Reading remote output as lines, copy locations, and how run results are gathered."""

from __future__ import annotations

from opsh.commands.ssh.copy.transfer import Location, parse_location, remote_path
from opsh.commands.ssh.exec.gather import grouped, status_line
from opsh.commands.ssh.exec.outcome import HostResult
from opsh.commands.ssh.exec.remote import LineSplitter
from opsh.shell.render import styled


def test_lines_split_across_chunks_and_bad_utf8():
    splitter = LineSplitter()
    assert splitter.feed(b"one\ntw") == ["one"]
    assert splitter.feed(b"o\r\nthr\xc3") == ["two"]
    assert splitter.feed(b"\xa9e \xff") == []
    assert splitter.flush() == ["thr\u00e9e \ufffd"]
    assert splitter.flush() == []


def test_copy_locations_follow_scp_rules():
    assert parse_location("web[1-3]:/tmp/") == Location("web[1-3]", "/tmp/")
    assert parse_location("web1:") == Location("web1", "")
    assert parse_location("./a:b") == Location(None, "./a:b")
    assert parse_location("/abs/x") == Location(None, "/abs/x")
    assert parse_location("root@@web:x") == Location("root@@web", "x")
    assert remote_path("~/app") == "app" and remote_path("") == "."


def test_grouped_output_merges_identical_hosts():
    results = [
        HostResult("web01", 0, output=[("out", "same")]),
        HostResult("web02", 0, output=[("out", "same")]),
        HostResult("web03", 1, output=[("out", "same")]),
        HostResult("web04", None, error="connection refused"),
        HostResult("web05", 0, output=[("out", "same")]),
    ]
    text = [styled(line, False) for line in grouped(results)]
    assert text[1] == "web[01-02,05] (3)"
    assert text[3] == "same"
    assert "web03 (1)  exit 1" in text
    assert "web04 (1)  connection refused" in text
    assert status_line(results, 1.5) == "5 hosts in 1.50s: 3 ok, 1 failed, 1 not reached"
    results.append(HostResult("web06", error="timed out after 2s (stopped)"))
    assert status_line(results, 2, True) == "interrupted: 6 hosts in 2.00s: 3 ok, 1 failed, 1 timed out, 1 not reached"


def test_paramiko_errors_read_as_one_line():
    import paramiko

    from opsh.shell.errors import describe

    refused = describe(paramiko.ChannelException(1, "Administratively prohibited"))
    assert (
        refused.line()
        == "error: ssh: the server refused a channel (Administratively prohibited) (MaxSessions reached?)"
    )
    assert describe(paramiko.SSHException("Error reading SSH protocol banner")).message == "ssh: no SSH banner"
    assert describe(paramiko.SSHException("Incompatible ssh peer")).message == "ssh: Incompatible ssh peer"


def test_output_comes_in_whole_lines_and_joins_back_to_the_bytes_sent():
    from opsh.commands.ssh.exec.remote import MAX_LINE, Chunker

    chunker = Chunker()
    pieces = [chunker.feed(b"one\ntw"), chunker.feed(b"o\r\nthr\xc3"), chunker.feed(b"\xa9e"), chunker.flush()]
    assert pieces == ["one\n", "two\r\n", "", "thr\u00e9e"]
    long = Chunker().feed(b"x" * (MAX_LINE + 1))
    assert long == "x" * (MAX_LINE + 1)  # an endless line is passed on, never held


def test_prefixed_blocks_render_every_line_at_once():
    from opsh.commands.ssh.exec.gather import prefixed

    block = prefixed("web1", 5, "out", "a\r\nb\n")
    assert styled(block, False) == "web1  | a\nweb1  | b"
    err = prefixed("web1", 4, "err", "oops\n")
    assert styled(err, False) == "web1 ! oops"
    coloured = styled(err, True)
    assert coloured.startswith("\x1b[36mweb1\x1b[0m") and "\x1b[33moops\x1b[0m" in coloured


def test_long_errors_are_shortened_in_the_summary_only():
    from opsh.commands.ssh.exec.gather import ERROR_WIDTH, structured_rows, summary_rows

    message = "unknown host key for web01: ssh-ed25519 key SHA256:" + "x" * 80 + " (add --accept-new)"
    result = HostResult("web01", None, message)
    short = summary_rows([result])[0][3]
    assert len(short) == ERROR_WIDTH and short.endswith("…")
    assert structured_rows([result])[0][3] == message
