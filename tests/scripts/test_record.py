"""Recording a session as a script, transcripts, and drift checks with replay --check."""

from __future__ import annotations

from tests.helpers import Shell


def test_recording_replays_to_the_same_results(sh, tmp_path):
    (tmp_path / "data.txt").write_text("alpha\n")
    sh.ok("record start session.opsh")
    first = [sh("set name demo").text, sh("echo hello ${name}").text, sh("!cat data.txt").text]
    sh.fails("nosuch command", "unknown command")
    sh.ok("record stop")
    script = (tmp_path / "session.opsh").read_text()
    assert "set name demo\necho hello ${name}\n!cat data.txt\n# failed: nosuch command\n" in script
    again = Shell(tmp_path)
    out = again("replay session.opsh")
    assert out.ok and out.text == "".join(first)


def test_chained_line_is_recorded_one_statement_per_line(sh, tmp_path):
    sh.ok("record start s.opsh")
    sh.ok("echo a; echo b")
    sh.ok("record stop")
    assert (tmp_path / "s.opsh").read_text().splitlines()[1:] == ["echo a", "echo b"]


def test_mode_switches_are_recorded(sh, tmp_path):
    from tests.unit.test_dispatch import LineStore

    sh.session.registry.connectors["fake"] = lambda s, r: LineStore(r.name)
    try:
        sh.ok("record start m.opsh")
        sh.ok("connect fake://app:hunter2@db/x as st")
        sh.ok("put one;")
        sh.ok("\\q")
        sh.ok("echo back")
        sh.ok("record stop")
    finally:
        del sh.session.registry.connectors["fake"]
    lines = (tmp_path / "m.opsh").read_text().splitlines()[1:]
    assert lines == ["connect fake://app@db/x as st", "put one;", "\\q", "echo back"]


def test_recording_started_inside_a_mode_reopens_it(sh, tmp_path):
    from tests.unit.test_dispatch import LineStore

    sh.session.registry.connectors["fake"] = lambda s, r: LineStore(r.name)
    try:
        sh.ok("connect fake://db/x as st")
        sh.ok("\\record start m.opsh")
        sh.ok("put one;")
        sh.ok("\\record stop")
    finally:
        del sh.session.registry.connectors["fake"]
    assert (tmp_path / "m.opsh").read_text().splitlines()[1:] == [
        "connect fake://db/x as st --background",
        "use st",
        "put one;",
    ]


def test_a_recording_started_with_a_handle_open_passes_its_own_check(sh, tmp_path):
    sh.ok("connect sqlite:///a.db")
    sh.ok("\\q")
    sh.ok("record start r.opsh --transcript")
    sh.ok("echo hi")
    sh.ok("record stop")
    sh.close()
    assert (tmp_path / "r.opsh").read_text().splitlines()[1:] == ["connect sqlite:///a.db as a --background", "echo hi"]
    assert (tmp_path / "r.transcript").read_text() == (
        "opsh transcript 2\n$ connect sqlite:///a.db as a --background\n$ echo hi\n  hi\n"
    )
    out = Shell(tmp_path)("replay r.opsh --check r.transcript")
    assert out.ok and out.text == "", out.text


def test_a_recording_started_inside_a_mode_passes_its_own_check(sh, tmp_path):
    sh.ok("connect sqlite:///a.db as a")
    sh.ok("\\record start r.opsh --transcript")
    sh.ok("select 2 as two;")
    sh.ok("\\record stop")
    sh.close()
    assert "$ connect sqlite:///a.db as a --background\n$ use a\n$ select 2 as two;\n" in (
        tmp_path / "r.transcript"
    ).read_text()
    out = Shell(tmp_path)("replay r.opsh --check r.transcript")
    assert out.ok and out.text == "", out.text


def test_secrets_never_reach_the_recording(sh, tmp_path):
    sh.ok("record start s.opsh")
    sh.ok("set api_token abc123secret")
    sh.fails("echo --password=hunter2", "unknown option")
    sh.ok("record stop")
    text = (tmp_path / "s.opsh").read_text()
    assert "abc123secret" not in text and "hunter2" not in text
    assert "# secret removed" in text


def test_transcript_check_passes_then_reports_drift(sh, tmp_path):
    data = tmp_path / "inventory.txt"
    data.write_text("web1\nweb2\n")
    sh.ok("record start drift.opsh --transcript")
    sh.ok("!cat inventory.txt")
    sh.ok("echo fixed line")
    sh.ok("record stop")
    transcript = (tmp_path / "drift.transcript").read_text()
    assert transcript.startswith("opsh transcript 2\n$ !cat inventory.txt\n  web1\n  web2\n")

    same = Shell(tmp_path)("replay drift.opsh --check drift.transcript")
    assert same.ok and same.text == ""

    data.write_text("web1\nweb3\n")
    changed = Shell(tmp_path)("replay drift.opsh --check drift.transcript")
    assert not changed.ok
    assert "-web2" in changed.text and "+web3" in changed.text
    assert "fixed line" not in changed.text  # unchanged statements are not shown


def test_masks_hide_volatile_output(sh, tmp_path):
    import time

    sh.ok("record start clock.opsh --transcript")
    sh.ok("!date +%H:%M:%S")
    sh.ok("record stop")
    script = tmp_path / "clock.opsh"
    script.write_text("# mask: \\d{2}:\\d{2}:\\d{2}\n" + script.read_text())
    time.sleep(1.1)  # the clock has moved on
    assert Shell(tmp_path)("replay clock.opsh --check clock.transcript").ok
    script.write_text(script.read_text().replace("# mask:", "# no mask:"))
    assert not Shell(tmp_path)("replay clock.opsh --check clock.transcript").ok


def test_history_save_turns_a_range_into_a_script(sh, tmp_path):
    store = sh.session.history
    for line, code in (("echo a", 0), ("nosuch", 1), ("echo b", 0), ("echo c", 0)):
        store.append(line, "local", code)
    assert sh("history save 1-3 part.opsh").ok
    lines = (tmp_path / "part.opsh").read_text().splitlines()
    assert lines[1:] == ["echo a", "# failed: nosuch", "echo b"]
    assert "outside the history" in sh("history save 3-9 x.opsh").err
    assert "bad range" in sh("history save a-b x.opsh").err


def test_a_failed_line_keeps_script_and_transcript_aligned(sh, tmp_path):
    data = tmp_path / "state.txt"
    data.write_text("green\n")
    sh.ok("record start s.opsh --transcript")
    sh.ok("echo before")
    sh.fails("nosuch command", "unknown command")
    sh.ok("!cat state.txt")
    sh.ok("echo after")
    sh.ok("record stop")
    assert "#$ nosuch command\n! exit 1: error: unknown command: nosuch" in (tmp_path / "s.transcript").read_text()
    assert Shell(tmp_path)("replay s.opsh --check s.transcript").ok

    data.write_text("red\n")
    out = Shell(tmp_path)("replay s.opsh --check s.transcript")
    assert not out.ok
    assert out.lines == [
        "--- statement 2: !cat state.txt (transcript)",
        "+++ statement 2: !cat state.txt (now)",
        "@@ -1 +1 @@",
        "-green",
        "+red",
    ]


def test_an_edited_script_is_still_compared_statement_by_statement(sh, tmp_path):
    sh.ok("record start s.opsh --transcript")
    for line in ("echo one", "echo two", "echo three"):
        sh.ok(line)
    sh.ok("record stop")
    script = tmp_path / "s.opsh"
    script.write_text(script.read_text().replace("echo two\n", "echo inserted\necho two\n").replace("three", "3"))
    out = Shell(tmp_path)("replay s.opsh --check s.transcript")
    assert not out.ok
    assert "statement 2 is not in the transcript: echo inserted" in out.text
    assert "transcript statement 3 did not run now: echo three" in out.text
    assert "statement 4 is not in the transcript: echo 3" in out.text
    assert "two" not in out.text.replace("echo two", "")  # the unchanged statements are compared and equal


def test_a_recording_that_runs_replay_holds_the_replay_line(sh, tmp_path):
    (tmp_path / "d.opsh").write_text(
        "connect sqlite:///d.db as d\ncreate table if not exists t (x int);\nselect count(*) as n from t;\n\\q\n"
    )
    sh.ok("record start s1.opsh --transcript")
    first = sh.ok("replay d.opsh").text
    sh.ok("echo typed after")
    sh.ok("record stop")
    assert (tmp_path / "s1.opsh").read_text().splitlines()[1:] == ["replay d.opsh", "echo typed after"]
    transcript = (tmp_path / "s1.transcript").read_text()
    body = "".join(f"  {line}\n" for line in first.splitlines())
    assert transcript == f"opsh transcript 2\n$ replay d.opsh\n{body}$ echo typed after\n  typed after\n"
    assert sh.session.handles == {}  # the replay closed the handle it opened
    assert Shell(tmp_path)("replay s1.opsh --check s1.transcript").ok


def test_secrets_in_output_never_reach_the_transcript(tmp_path, redis_auth_server):
    url = f"redis://:{redis_auth_server.password}@{redis_auth_server.host}:{redis_auth_server.port}/0"
    sh = Shell(tmp_path)
    sh.ok("record start s.opsh --transcript")
    sh.ok(f"connect {url} as cache")
    shown = sh.ok("CONFIG GET requirepass").text
    assert redis_auth_server.password in shown  # the person at the prompt sees it...
    sh.ok("CONFIG GET *")
    sh.ok("\\q")
    sh.ok("record stop")
    sh.close()
    for name in ("s.opsh", "s.transcript"):
        assert redis_auth_server.password not in (tmp_path / name).read_text(), name  # ...the files never
    # raw, as redis-cli -3 --raw writes a RESP3 map: the key and its value on one line
    assert "  requirepass ***\n" in (tmp_path / "s.transcript").read_text()


def test_recordings_and_transcripts_are_private(sh, tmp_path):
    (tmp_path / "old.opsh").write_text("# an earlier recording\n")
    (tmp_path / "old.opsh").chmod(0o644)
    sh.ok("record start old.opsh --transcript")
    sh.ok("echo x")
    sh.ok("record stop")
    sh.session.history.append("echo from history", "local", 0)
    sh.ok("history save 1-1 saved.opsh")
    for name in ("old.opsh", "old.transcript", "saved.opsh"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
