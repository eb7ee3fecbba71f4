"""Local file commands on real files in a temp dir, typed as a user would."""

from __future__ import annotations

import os
import signal
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from opsh.shell import argv
from opsh.shell.completion import ShellCompleter
from opsh.shell.lineparse import tokenize
from opsh.shell.result import Result
from tests.helpers import Shell


def result_of(sh: Shell, line: str) -> Result:
    """The Result a line produces, before rendering (to look at lazy rows and streams)."""
    tokens = tokenize(line, sh.session.lookup)
    parsed = argv.parse(sh.session.registry.get(tokens[0].text), tokens[1:])
    return parsed.command().run(sh.session, parsed.args)


def complete(sh: Shell, text: str) -> list[str]:
    found = ShellCompleter(sh.session).get_completions(Document(text, len(text)), CompleteEvent(True))
    return [c.text for c in found]


def random_file(path: Path, mib: int) -> Path:
    """Incompressible data, written a MiB at a time."""
    with open(path, "wb") as handle:
        for _ in range(mib):
            handle.write(os.urandom(1024 * 1024))
    return path


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Peak bytes Python allocated inside the block (the list gets it on exit)."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
        peak.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def listing(sh: Shell, line: str) -> dict[str, dict]:
    return {row.get("name") or row.get("path"): row for row in sh.json(line)}


@pytest.fixture
def work(sh: Shell, tmp_path: Path) -> Path:
    """A small tree to work in, and the session inside it."""
    root = tmp_path / "work"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / "src" / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "notes.txt").write_text("one\ntwo\nthree\n")
    (root / "big.log").write_bytes(b"x" * 1536)
    (root / ".hidden").write_text("secret\n")
    (root / "link").symlink_to("notes.txt")
    assert sh("cd work").ok
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the work tree that nothing may touch."""
    keep = tmp_path / "outside"
    keep.mkdir()
    (keep / "precious.txt").write_text("keep me\n")
    return keep


# ---------------------------------------------------------------- ls, cd, pwd


def test_ls_lists_names_and_types_hiding_dotfiles(sh, work):
    rows = listing(sh, "ls")
    assert set(rows) == {"big.log", "link", "notes.txt", "src"}
    assert rows["src"]["type"] == "dir" and rows["link"]["type"] == "link"
    assert ".hidden" in listing(sh, "ls -a")


def test_ls_long_shows_human_sizes_on_screen_and_bytes_in_json_and_csv(sh, work):
    table = sh("ls -l big.log").text
    assert "1.5K" in table and "-rw-" in table
    row = sh.json("ls -l")[0]
    assert set(row) == {"name", "type", "size", "mode", "owner", "group", "mtime", "target"}
    rows = listing(sh, "ls -l")
    assert rows["big.log"]["size"] == 1536
    assert rows["link"]["target"] == "notes.txt"
    assert "big.log,file,1536," in sh("ls -l --format csv").text


def test_ls_sorts_by_size_and_time(sh, work):
    os.utime(work / "notes.txt", (1, 1))
    assert [r["name"] for r in sh.json("ls -l -S *.log *.txt")] == ["big.log", "notes.txt"]
    newest_last = [r["name"] for r in sh.json("ls -ltr")]
    assert newest_last[0] == "notes.txt"


def test_ls_of_several_paths_and_patterns(sh, work):
    names = [r["name"] for r in sh.json("ls src notes.txt")]
    assert names == ["notes.txt", "src/app.py", "src/pkg"]
    assert [r["name"] for r in sh.json("ls *.txt")] == ["notes.txt"]
    out = sh("ls *.zip")
    assert not out.ok and out.err.strip() == "error: no match: *.zip"


def test_ls_of_a_missing_path_is_one_clear_line(sh, work):
    out = sh("ls nowhere")
    assert out.exit_code == 1
    assert out.err == "error: no such file or directory: nowhere\n"


def test_cd_pwd_and_cd_dash(sh, work, monkeypatch, tmp_path):
    assert sh("pwd").text.strip() == str(work)
    sh.ok("cd src/pkg")
    assert sh("pwd").text.strip() == str(work / "src" / "pkg")
    assert sh("cat mod.py").text == "x = 1\n"  # relative to the session, not the process
    assert sh("cd -").text.strip() == str(work)
    assert sh("cd -").text.strip() == str(work / "src" / "pkg")
    monkeypatch.setenv("HOME", str(tmp_path))
    sh.ok("cd")
    assert sh.session.cwd == tmp_path


def test_cd_to_a_file_or_nowhere_fails_saying_which(sh, work):
    assert sh.fails("cd notes.txt").err == "error: not a directory: notes.txt\n"
    assert sh.fails("cd missing").err == "error: no such file or directory: missing\n"
    assert sh.session.cwd == work


# ---------------------------------------------------------------- cp, mv


def test_cp_a_file_keeps_content_mode_and_mtime(sh, work):
    os.chmod(work / "notes.txt", 0o640)
    os.utime(work / "notes.txt", (1_000_000, 1_000_000))
    assert sh("cp notes.txt copy.txt").ok
    copy = work / "copy.txt"
    assert copy.read_text() == "one\ntwo\nthree\n"
    assert copy.stat().st_mode & 0o777 == 0o640 and copy.stat().st_mtime == 1_000_000


def test_cp_several_files_into_a_directory(sh, work):
    sh.ok("mkdir dest")
    assert sh("cp notes.txt big.log dest").ok
    assert sorted(os.listdir(work / "dest")) == ["big.log", "notes.txt"]
    out = sh("cp notes.txt big.log nodir")
    assert out.exit_code == 2 and "not a directory" in out.err


def test_cp_a_directory_needs_r_and_keeps_symlinks(sh, work):
    (work / "src" / "pkg" / "ln").symlink_to("mod.py")
    out = sh("cp src backup")
    assert out.exit_code == 2 and "use cp -r" in out.err
    assert sh("cp -r src backup").ok
    assert (work / "backup" / "pkg" / "mod.py").read_text() == "x = 1\n"
    assert os.readlink(work / "backup" / "pkg" / "ln") == "mod.py"


def test_cp_refuses_a_directory_into_itself_and_a_file_onto_itself(sh, work):
    assert "into itself" in sh("cp -r src src/pkg").err
    assert "same file" in sh("cp notes.txt notes.txt").err


def test_mv_renames_and_moves_into_a_directory(sh, work):
    assert sh("mv notes.txt renamed.txt").ok
    assert (work / "renamed.txt").exists() and not (work / "notes.txt").exists()
    sh.ok("mkdir dest")
    assert sh("mv renamed.txt big.log dest/").ok
    assert sorted(os.listdir(work / "dest")) == ["big.log", "renamed.txt"]
    assert "into itself" in sh("mv src src/pkg").err


@pytest.mark.parametrize("verb", ["mv", "cp"])
def test_a_destination_ending_in_a_slash_must_be_a_directory(sh, work, verb):
    """`mv notes.txt missing/` once renamed the file to `missing`; coreutils refuses."""
    sh.fails(f"{verb} notes.txt missing/", "missing/ is not a directory")
    assert (work / "notes.txt").exists() and not (work / "missing").exists()


# ---------------------------------------------------------------- rm


def test_rm_removes_files_and_patterns_without_asking(sh, work):
    assert sh("rm notes.txt").ok
    assert sh("rm src/*.py").ok
    assert not (work / "notes.txt").exists() and not (work / "src" / "app.py").exists()


def test_rm_a_directory_needs_r(sh, work):
    out = sh("rm src")
    assert out.exit_code == 2 and "use rm -r" in out.err
    assert (work / "src").is_dir()


def test_rm_r_asks_first_and_no_keeps_it(tmp_path, work):
    shell = Shell(tmp_path, answers=["n", "y"])
    shell.ok("cd work")
    out = shell("rm -r src")
    assert not out.ok and "not confirmed" in out.err
    assert (work / "src" / "pkg" / "mod.py").exists()
    question = shell.io.asked[0]
    assert question.startswith("Remove 1 directory (src: 3 entries")
    assert shell("rm -r src").ok
    assert not (work / "src").exists()


def test_rm_r_in_a_script_needs_yes(sh, work):
    out = sh("rm -r src")
    assert out.exit_code == 1 and "add --yes" in out.err
    assert (work / "src").exists()
    assert sh("rm -r src --yes").ok
    assert not (work / "src").exists()


def test_rm_many_files_asks_first(sh, work):
    for n in range(12):
        (work / f"f{n}.tmp").write_text("x")
    out = sh("rm *.tmp")
    assert "not confirmed: Remove 12 files" in out.err
    assert sh("rm *.tmp --yes").ok
    assert not list(work.glob("*.tmp"))


def test_rm_r_never_follows_symlinks_out(sh, work, outside):
    (work / "src" / "escape").symlink_to(outside)
    (work / "to-outside").symlink_to(outside)
    assert sh("rm -r src --yes").ok
    assert sh("rm -r to-outside").ok  # a link is removed as a file: no question
    assert not (work / "to-outside").exists()
    assert (outside / "precious.txt").read_text() == "keep me\n"


def test_rm_f_ignores_missing_and_refuses_dot_and_the_current_directory(sh, work):
    assert sh("rm -f nothing-here").ok
    assert not sh("rm nothing-here").ok
    assert "refusing" in sh("rm -r . --yes").err
    sh.ok("cd src/pkg")
    assert "holds the current directory" in sh(f"rm -r {work / 'src'} --yes").err
    assert (work / "src").exists()


# ---------------------------------------------------------------- mkdir, rmdir, touch, ln, stat


def test_mkdir_p_rmdir(sh, work):
    assert sh("mkdir a").ok
    assert not sh("mkdir a").ok
    assert sh("mkdir -p a/b/c").ok and sh("mkdir -p a/b/c").ok
    out = sh("rmdir a")
    assert out.err == f"error: directory not empty: {work / 'a'}\n"
    assert sh("rmdir a/b/c").ok and not (work / "a" / "b" / "c").exists()


def test_touch_creates_and_updates(sh, work):
    os.utime(work / "notes.txt", (1, 1))
    assert sh("touch notes.txt fresh").ok
    assert (work / "fresh").exists()
    assert time.time() - (work / "notes.txt").stat().st_mtime < 60
    sh.ok("touch -c not-created")
    assert not (work / "not-created").exists()


def test_ln_symbolic_and_hard(sh, work):
    assert sh("ln -s src/app.py app-link").ok
    assert os.readlink(work / "app-link") == "src/app.py"
    out = sh("ln -s notes.txt app-link")
    assert "already exists" in out.err and "-f" in out.err
    assert sh("ln -sf notes.txt app-link").ok and os.readlink(work / "app-link") == "notes.txt"
    assert sh("ln notes.txt hard").ok
    assert (work / "hard").stat().st_ino == (work / "notes.txt").stat().st_ino
    sh.ok("mkdir d")
    sh.ok("ln -s ../notes.txt d")
    assert os.readlink(work / "d" / "notes.txt") == "../notes.txt"


def test_stat_fields(sh, work):
    os.chmod(work / "notes.txt", 0o640)
    fields = {r["field"]: r["value"] for r in sh.json("stat notes.txt")}
    assert fields["size"] == 14 and fields["type"] == "file"
    assert fields["mode"] == "0640" and fields["permissions"] == "-rw-r-----"
    assert fields["inode"] == (work / "notes.txt").stat().st_ino
    assert {"owner", "group", "links", "atime", "mtime", "ctime"} <= set(fields)
    link = {r["field"]: r["value"] for r in sh.json("stat link")}
    assert link["type"] == "link" and link["target"] == "notes.txt"
    assert {r["field"]: r["value"] for r in sh.json("stat -L link")}["type"] == "file"
    assert "14B" in sh("stat notes.txt").text


# ---------------------------------------------------------------- find, glob, tree, du


def test_find_by_name_and_type(sh, work):
    paths = [r["path"] for r in sh.json("find --name '*.py'")]
    assert paths == ["src/app.py", "src/pkg/mod.py"]
    assert [r["path"] for r in sh.json("find src --type d")] == ["src/pkg"]
    assert [r["path"] for r in sh.json("find --type l")] == ["link"]


def test_find_by_size(sh, work):
    assert [r["path"] for r in sh.json("find --type f --size +1k")] == ["big.log"]
    small = {r["path"] for r in sh.json("find --type f --size -10")}
    assert small == {"src/pkg/mod.py", ".hidden"}
    (work / "empty").touch()
    assert [r["path"] for r in sh.json("find --size 0")] == ["empty"]


def test_find_by_age_date_and_file(sh, work):
    old = time.time() - 10 * 86400
    for path in work.rglob("*"):
        os.utime(path, (old, old), follow_symlinks=False)
    os.utime(work / "notes.txt")
    assert [r["path"] for r in sh.json("find --newer 2d")] == ["notes.txt"]
    assert "notes.txt" not in {r["path"] for r in sh.json("find --older 5d")}
    assert sh.json("find --older 2020-01-01") == []
    assert len(sh.json("find --older '2999-01-01 00:00' --type f")) == 5
    assert [r["path"] for r in sh.json("find --newer big.log --type f")] == ["notes.txt"]
    out = sh("find --newer yesterday")
    assert out.exit_code == 2 and "2d, 3h" in out.err


def test_find_maxdepth_and_symlinked_dirs_are_not_entered(sh, work, outside):
    (work / "src" / "out").symlink_to(outside)
    shallow = {r["path"] for r in sh.json("find --maxdepth 1")}
    assert "src" in shallow and "src/app.py" not in shallow
    assert not [r for r in sh.json("find") if "precious" in r["path"]]


def test_find_rows_are_lazy(sh, work):
    result = result_of(sh, "find --name '*.py'")
    assert isinstance(result.rows, Iterator)
    assert next(result.rows)[0] == "src/app.py"


def test_glob_recursive_and_hidden(sh, work):
    assert [r["path"] for r in sh.json("glob '**/*.py'")] == ["src/app.py", "src/pkg/mod.py"]
    assert ".hidden" not in {r["path"] for r in sh.json("glob '*'")}
    assert ".hidden" in {r["path"] for r in sh.json("glob -a '*'")}
    assert sh.json("glob '*.nothing'") == []


def test_tree_draws_and_counts(sh, work):
    assert sh("tree").text == (
        ".\n"
        "├── big.log\n"
        "├── link -> notes.txt\n"
        "├── notes.txt\n"
        "└── src/\n"
        "    ├── app.py\n"
        "    └── pkg/\n"
        "        └── mod.py\n"
        "\n"
        "2 directories, 5 files\n"
    )
    assert "app.py" not in sh("tree --depth 1").text
    assert ".hidden" in sh("tree -a").text


def test_du_sorted_with_total_last_and_bytes_in_json(sh, work):
    rows = sh.json("du --apparent")
    assert rows[-1]["path"] == "."
    sizes = [r["size"] for r in rows]
    assert sizes == sorted(sizes)
    src = next(r for r in rows if r["path"] == "src")
    assert src["files"] == 2 and src["size"] == 4096 * 2 + len("print('hi')\n") + len("x = 1\n")
    assert "K" in sh("du").text


def test_du_counts_hard_links_once_and_depth_zero(sh, work):
    (work / "src" / "again").hardlink_to(work / "big.log")
    (rows,) = sh.json("du . --depth 0 --apparent")
    assert rows["files"] == 6  # big.log and its hard link count once
    several = sh.json("du src notes.txt --depth 0")
    assert several[-1]["path"] == "total"


# ---------------------------------------------------------------- cat, head, tail


def test_cat_text_files(sh, work):
    assert sh("cat notes.txt").text == "one\ntwo\nthree\n"
    assert sh("cat notes.txt src/pkg/mod.py").text == "one\ntwo\nthree\nx = 1\n"


def test_cat_refuses_binary_and_directories(sh, work):
    (work / "blob.bin").write_bytes(b"\x7fELF\x00\x01\x02" * 10)
    out = sh("cat blob.bin")
    assert out.err == "error: blob.bin is a binary file (70B) (`head --hex blob.bin` shows its bytes)\n"
    assert out.text == ""
    assert "is a directory" in sh("cat src").err
    dump = sh("cat --hex blob.bin").text
    assert dump.startswith("00000000  7f 45 4c 46 00 01 02 7f  45 4c 46 00 01 02 7f 45  |.ELF")


def test_cat_streams_a_big_file_whole(sh, work):
    lines = [f"line {n} " + "x" * 60 for n in range(80_000)]
    (work / "huge.log").write_text("\n".join(lines) + "\n")
    result = result_of(sh, "cat huge.log")
    assert result.kind == "stream"
    assert sh("cat huge.log").text.splitlines() == lines


def test_head(sh, work):
    (work / "n.txt").write_text("".join(f"{n}\n" for n in range(1, 31)))
    assert sh("head n.txt").text == "".join(f"{n}\n" for n in range(1, 11))
    assert sh("head -n 2 n.txt").text == "1\n2\n"
    assert sh("head -n2 n.txt notes.txt").text == "==> n.txt <==\n1\n2\n\n==> notes.txt <==\none\ntwo\n"
    (work / "blob.bin").write_bytes(bytes(range(40)))
    assert "binary file" in sh("head blob.bin").err
    assert len(sh("head --hex -n 2 blob.bin").lines) == 2


def test_tail_reads_from_the_end(sh, work):
    lines = [f"entry {n}" for n in range(100_000)]
    (work / "long.log").write_text("\n".join(lines) + "\n")
    assert sh("tail -n 3 long.log").text == "entry 99997\nentry 99998\nentry 99999\n"
    (work / "nonl.txt").write_text("a\nb\nc")
    assert sh("tail -n 2 nonl.txt").text == "b\nc\n"
    assert sh("tail -n 50 notes.txt").text == "one\ntwo\nthree\n"


@pytest.fixture
def deadline() -> Iterator[None]:
    """A follow test that hangs fails instead of blocking the suite."""

    def fail(signum, frame):
        raise TimeoutError("tail -f did not produce the expected line")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_tail_follow_through_appends_truncation_and_rotation(sh, work, deadline):
    log = work / "app.log"
    log.write_text("old 1\nold 2\n")
    result = result_of(sh, "tail -f -n 1 app.log")
    lines = result.stream
    assert next(lines) == "old 2"
    with open(log, "a") as handle:
        handle.write("new 1\nnew ")
    assert next(lines) == "new 1"
    with open(log, "a") as handle:
        handle.write("2\n")
    assert next(lines) == "new 2"
    log.write_text("")  # truncated (copytruncate)
    assert "truncated" in next(lines)[0][1]
    with open(log, "a") as handle:
        handle.write("after truncate\n")
    assert next(lines) == "after truncate"
    log.rename(work / "app.log.1")  # rotated (rename and create)
    log.write_text("fresh file\n")
    assert "replaced" in next(lines)[0][1]
    assert next(lines) == "fresh file"
    with pytest.raises(StopIteration):
        lines.throw(KeyboardInterrupt)  # Ctrl-C ends the stream, not the shell
    assert result.then().status == "stopped following app.log"


# ---------------------------------------------------------------- mktemp


def test_mktemp(sh, work):
    path = Path(sh(f"mktemp --dir {work}").text.strip())
    assert path.is_file() and path.parent == work and path.name.startswith("opsh-")
    directory = Path(sh(f"mktemp -d --prefix build- --dir {work}").text.strip())
    assert directory.is_dir() and directory.name.startswith("build-")
    assert sh("mktemp -d --var scratch").ok
    scratch = sh.session.variables["scratch"]
    assert Path(scratch).is_dir() and sh("echo ${scratch}").text.strip() == scratch
    os.rmdir(scratch)


# ---------------------------------------------------------------- completion


def test_completion_of_paths_for_file_commands(sh, work):
    assert complete(sh, "cd ") == ["src/"]
    assert complete(sh, "cat no") == ["notes.txt"]
    assert complete(sh, "ls src/p") == ["src/pkg/"]
    assert set(complete(sh, "rm -r s")) == {"src/"}
    assert complete(sh, "find --type ") == ["f", "d", "l"]
    assert "--maxdepth" in complete(sh, "find --max")
