"""Archives on real files: round trips in every format, hostile and broken archives, gzip.

Hostile archives are built here byte for byte the way an attacker would (path traversal,
absolute names, symlink and hard-link escapes, zip slip, device files); each test checks the
refusal names the member AND that nothing at all appeared outside the destination.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.unit.test_files import complete, peak_memory, random_file

FORMATS = ("tar", "tar.gz", "tgz", "tar.bz2", "tar.xz", "zip")


@pytest.fixture
def site(sh, tmp_path: Path) -> Path:
    """A tree to pack: files, a nested dir, an executable, a symlink."""
    root = tmp_path / "work"
    (root / "site" / "css").mkdir(parents=True)
    (root / "site" / "index.html").write_text("<h1>hi</h1>\n")
    (root / "site" / "css" / "main.css").write_text("body {}\n")
    (root / "site" / "run.sh").write_text("#!/bin/sh\necho run\n")
    os.chmod(root / "site" / "run.sh", 0o755)
    (root / "site" / "home").symlink_to("index.html")
    (root / "notes.txt").write_text("notes\n")
    assert sh("cd work").ok
    return root


def tree_of(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def sandbox(sh, tmp_path: Path) -> Path:
    """Where hostile archives are unpacked; everything around it must stay as it was."""
    box = tmp_path / "box"
    (box / "dest").mkdir(parents=True)
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "keep.txt").write_text("keep\n")
    assert sh("cd box").ok
    return box


def assert_nothing_written(tmp_path: Path, box: Path, archive: str) -> None:
    assert tree_of(box) == {"dest", archive}
    assert tree_of(tmp_path / "victim") == {"keep.txt"}
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "evil").exists()


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("ext", FORMATS)
def test_create_list_extract_round_trip(sh, site, ext):
    assert sh(f"archive create out.{ext} site notes.txt").ok
    names = {r["name"].rstrip("/") for r in sh.json(f"archive list out.{ext}")}
    assert {"site", "site/index.html", "site/css/main.css", "site/home", "notes.txt"} <= names
    assert sh(f"archive extract out.{ext} --to restored").ok
    restored = site / "restored"
    assert (restored / "site" / "css" / "main.css").read_text() == "body {}\n"
    assert (restored / "notes.txt").read_text() == "notes\n"
    assert os.readlink(restored / "site" / "home") == "index.html"
    assert (restored / "site" / "run.sh").stat().st_mode & 0o100


def test_list_shows_types_links_and_exact_sizes_in_json(sh, site):
    sh.ok("archive create out.tar.gz site")
    rows = {r["name"]: r for r in sh.json("archive list out.tar.gz")}
    assert rows["site/index.html"]["size"] == 12 and rows["site/index.html"]["type"] == "file"
    assert rows["site/home"]["type"] == "link" and rows["site/home"]["target"] == "index.html"
    assert rows["site/run.sh"]["mode"] == "-rwxr-xr-x"
    assert set(rows["site"]) == {"name", "type", "size", "mode", "mtime", "target"}


def test_the_archive_is_never_packed_into_itself(sh, site):
    assert sh("archive create site/self.tar site").ok
    names = {r["name"] for r in sh.json("archive list site/self.tar")}
    assert "site/self.tar" not in names and "site/index.html" in names
    assert not [p for p in os.listdir(site / "site") if p.endswith(".part")]


def test_absolute_and_dotdot_inputs_are_stored_by_name(sh, site):
    sh.ok("cd site")
    assert sh(f"archive create ../abs.zip {site / 'notes.txt'} ../site/css").ok
    assert {r["name"] for r in sh.json("archive list ../abs.zip")} == {"notes.txt", "css/", "css/main.css"}


def test_create_with_an_unknown_extension_or_level(sh, site):
    out = sh("archive create out.rar site")
    assert out.exit_code == 2 and ".tar.gz" in out.err
    assert "--level must be 1-9" in sh("archive create out.tgz site --level 12").err
    assert sh("archive create small.tar.xz site --level 9").ok


def test_extract_only_named_members(sh, site):
    sh.ok("archive create out.zip site notes.txt")
    assert sh("archive extract out.zip site/css --to part").ok
    assert tree_of(site / "part") == {"site", "site/css", "site/css/main.css"}
    out = sh("archive extract out.zip nothing/here --to part")
    assert "has no member 'nothing/here'" in out.err


# ---------------------------------------------------------------- hostile tar archives


def add_tar_member(tar: tarfile.TarFile, name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    data = b"pwned\n" if kind == tarfile.REGTYPE else b""
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def hostile_tar(path: Path, members: list[tuple]) -> None:
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        add_tar_member(tar, "innocent.txt")
        for member in members:
            add_tar_member(tar, *member)


@pytest.mark.parametrize(
    ("members", "culprit", "why"),
    [
        ([("../../evil.txt",)], "../../evil.txt", "goes up with '..'"),
        ([("ok/../../../evil.txt",)], "ok/../../../evil.txt", "goes up"),
        ([("{abs}/evil.txt",)], "{abs}/evil.txt", "absolute path"),
        ([("up", tarfile.SYMTYPE, "../../victim")], "up", "outside the destination"),
        ([("abs", tarfile.SYMTYPE, "/etc/passwd")], "abs", "absolute path '/etc/passwd'"),
        ([("in", tarfile.SYMTYPE, "."), ("in/evil.txt",)], "in/evil.txt", "through the symlink 'in'"),
        ([("hard", tarfile.LNKTYPE, "../victim/keep.txt")], "hard", "hard link"),
        ([("hard", tarfile.LNKTYPE, "/etc/passwd")], "hard", "hard link"),
        ([("null", tarfile.CHRTYPE)], "null", "device or special file (char)"),
        ([("pipe", tarfile.FIFOTYPE)], "pipe", "device or special file (fifo)"),
    ],
)
def test_hostile_tar_is_refused_and_nothing_is_written(sh, sandbox, tmp_path, members, culprit, why):
    absolute = str(tmp_path)
    members = [(m[0].replace("{abs}", absolute), *m[1:]) for m in members]
    culprit = culprit.replace("{abs}", absolute)
    hostile_tar(sandbox / "evil.tgz", members)
    out = sh("archive extract evil.tgz --to dest")
    assert out.exit_code == 1
    assert out.err.startswith(f"error: refusing to extract evil.tgz: member {culprit!r}")
    assert why in out.err and "Traceback" not in out.err
    assert_nothing_written(tmp_path, sandbox, "evil.tgz")


def test_an_existing_symlink_in_the_destination_does_not_lead_tar_out(sh, sandbox, tmp_path):
    (sandbox / "dest" / "logs").symlink_to(tmp_path / "victim")
    with tarfile.open(sandbox / "a.tar", "w") as tar:
        add_tar_member(tar, "logs/evil.txt")
    out = sh("archive extract a.tar --to dest")
    assert out.exit_code == 1 and "logs/evil.txt" in out.err
    assert tree_of(tmp_path / "victim") == {"keep.txt"}


# ---------------------------------------------------------------- hostile zip archives


def hostile_zip(path: Path, name: str, data: bytes = b"pwned\n", mode: int | None = None) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("innocent.txt", b"fine\n")
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.create_system = 3
            info.external_attr = mode << 16
        zf.writestr(info, data)


@pytest.mark.parametrize(
    ("name", "data", "mode", "why"),
    [
        ("../../evil.txt", b"x", None, "goes up with '..'"),
        ("a/../../../evil.txt", b"x", None, "goes up"),
        ("/tmp/evil.txt", b"x", None, "absolute path"),
        ("C:/evil.txt", b"x", None, "absolute path"),
        ("up", b"../../victim", stat.S_IFLNK | 0o777, "symlink to '../../victim', outside"),
        ("abs", b"/etc", stat.S_IFLNK | 0o777, "absolute path '/etc'"),
        ("dev", b"", stat.S_IFCHR | 0o644, "device or special file (char)"),
    ],
)
def test_zip_slip_and_friends_are_refused(sh, sandbox, tmp_path, name, data, mode, why):
    hostile_zip(sandbox / "evil.zip", name, data, mode)
    out = sh("archive extract evil.zip --to dest")
    assert out.exit_code == 1
    assert out.err.startswith(f"error: refusing to extract evil.zip: member {name!r}") and why in out.err
    assert_nothing_written(tmp_path, sandbox, "evil.zip")


def test_an_existing_symlink_in_the_destination_does_not_lead_zip_out(sh, sandbox, tmp_path):
    (sandbox / "dest" / "logs").symlink_to(tmp_path / "victim")
    with zipfile.ZipFile(sandbox / "a.zip", "w") as zf:
        zf.writestr("logs/sub/evil.txt", b"pwned\n")
    out = sh("archive extract a.zip --to dest")
    assert out.exit_code == 1 and "'logs/sub/evil.txt' would land in" in out.err
    assert tree_of(tmp_path / "victim") == {"keep.txt"}


# ---------------------------------------------------------------- what is already in the destination


def one_member_archive(path: Path, name: str, data: bytes = b"new\n") -> None:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(name, data)
        return
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("ext", ["tar", "zip"])
def test_a_symlink_with_a_members_name_is_replaced_not_followed(sh, sandbox, ext):
    """(One leading outside is refused for tar by the data filter, and replaced for zip.)"""
    (sandbox / "dest" / "other.txt").write_text("other\n")
    (sandbox / "dest" / "notes.txt").symlink_to("other.txt")
    one_member_archive(sandbox / f"a.{ext}", "notes.txt")
    sh.ok(f"archive extract a.{ext} --to dest")
    assert not (sandbox / "dest" / "notes.txt").is_symlink()
    assert (sandbox / "dest" / "notes.txt").read_text() == "new\n"
    assert (sandbox / "dest" / "other.txt").read_text() == "other\n"


@pytest.mark.parametrize("ext", ["tar", "zip"])
def test_a_hard_link_in_the_destination_to_a_file_elsewhere_is_replaced_not_written_into(sh, sandbox, tmp_path, ext):
    """tarfile opened such a name for writing and so rewrote the file at the other end."""
    os.link(tmp_path / "victim" / "keep.txt", sandbox / "dest" / "notes.txt")
    one_member_archive(sandbox / f"a.{ext}", "notes.txt")
    sh.ok(f"archive extract a.{ext} --to dest")
    assert (sandbox / "dest" / "notes.txt").read_text() == "new\n"
    assert (tmp_path / "victim" / "keep.txt").read_text() == "keep\n"


@pytest.mark.parametrize("ext", ["tar", "zip"])
def test_no_write_goes_through_a_symlink_even_one_leading_inside(sh, sandbox, ext):
    (sandbox / "dest" / "releases" / "v2").mkdir(parents=True)
    (sandbox / "dest" / "current").symlink_to("releases/v2")
    one_member_archive(sandbox / f"a.{ext}", "current/app.py")
    out = sh.fails(f"archive extract a.{ext} --to dest", "through the symlink 'current'")
    assert "nothing was extracted" in out.err
    assert tree_of(sandbox / "dest") == {"releases", "releases/v2", "current"}


def test_tar_hard_links_are_links_and_one_extracted_alone_gets_the_data(sh, site):
    with tarfile.open(site / "links.tar", "w") as tar:
        add_tar_member(tar, "dir/original.txt")
        add_tar_member(tar, "dir/second.txt", tarfile.LNKTYPE, "dir/original.txt")
    sh.ok("archive extract links.tar --to all")
    original, second = (site / "all" / "dir" / name for name in ("original.txt", "second.txt"))
    assert original.stat().st_ino == second.stat().st_ino and second.read_text() == "pwned\n"
    sh.ok("archive extract links.tar dir/second.txt --to alone")
    assert tree_of(site / "alone") == {"dir", "dir/second.txt"}
    assert (site / "alone" / "dir" / "second.txt").read_text() == "pwned\n"


# ---------------------------------------------------------------- corrupt and truncated


def random_tree(root: Path) -> None:
    root.mkdir()
    for n in range(3):
        (root / f"blob{n}.bin").write_bytes(os.urandom(200_000))


@pytest.mark.parametrize("ext", ["tar", "tar.gz", "tar.bz2", "tar.xz", "zip"])
def test_truncated_archives_are_a_clear_error_and_leave_no_half_file(sh, site, ext):
    random_tree(site / "data")
    sh.ok(f"archive create whole.{ext} data")
    whole = (site / f"whole.{ext}").read_bytes()
    (site / f"cut.{ext}").write_bytes(whole[: len(whole) * 2 // 3])
    out = sh(f"archive extract cut.{ext} --to restored")
    assert out.exit_code == 1
    assert out.err.startswith(f"error: corrupt or truncated archive cut.{ext}: "), out.err
    assert out.err.count("\n") == 1
    for path in (site / "restored").rglob("*.bin"):  # whatever came out is complete
        assert path.read_bytes() == (site / "data" / path.name).read_bytes()


def test_a_zip_member_with_a_bad_checksum_is_an_error(sh, site):
    with zipfile.ZipFile(site / "stored.zip", "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("data.txt", b"A" * 1000)
    raw = bytearray((site / "stored.zip").read_bytes())
    raw[raw.index(b"AAAA") + 10] = ord("B")
    (site / "stored.zip").write_bytes(bytes(raw))
    out = sh("archive extract stored.zip --to restored")
    assert out.err.startswith("error: corrupt or truncated archive stored.zip: Bad CRC-32")
    assert not (site / "restored" / "data.txt").exists()


def test_not_an_archive_and_missing_archive(sh, site):
    assert sh("archive list notes.txt").err == "error: notes.txt is not a tar or zip archive\n"
    sh.ok("gzip -k notes.txt")
    assert "a single compressed file? that is for gunzip" in sh("archive extract notes.txt.gz").err
    assert sh("archive list nowhere.tgz").err == "error: no such archive: nowhere.tgz\n"
    assert "unknown or missing subcommand" in sh("archive").err


# ---------------------------------------------------------------- gzip, gunzip


def test_gzip_and_gunzip_round_trip(sh, site):
    os.utime(site / "notes.txt", (1_000_000, 1_000_000))
    assert sh("gzip notes.txt").ok
    assert not (site / "notes.txt").exists()
    assert gzip.decompress((site / "notes.txt.gz").read_bytes()) == b"notes\n"
    assert (site / "notes.txt.gz").stat().st_mtime == 1_000_000
    assert sh("gunzip notes.txt.gz").ok
    assert (site / "notes.txt").read_text() == "notes\n" and not (site / "notes.txt.gz").exists()
    assert (site / "notes.txt").stat().st_mtime == 1_000_000


def test_gzip_keep_level_force_and_refusals(sh, site):
    assert sh("gzip -k -l 9 notes.txt").ok
    assert (site / "notes.txt").exists() and (site / "notes.txt.gz").exists()
    out = sh("gzip -k notes.txt")
    assert out.err == "error: notes.txt.gz already exists (use -f to overwrite it)\n"
    assert sh("gzip -k -f notes.txt").ok
    assert "already ends in .gz" in sh("gzip notes.txt.gz").err
    assert "not a regular file" in sh("gzip site").err
    assert "does not end in .gz" in sh("gunzip notes.txt").err
    sh.ok("archive create pack.tgz site")
    assert sh("gunzip -k pack.tgz").ok and tarfile.is_tarfile(site / "pack.tar")


def test_gunzip_of_corrupt_data_is_an_error_and_writes_nothing(sh, site):
    (site / "data.bin").write_bytes(os.urandom(300_000))
    sh.ok("gzip data.bin")
    packed = (site / "data.bin.gz").read_bytes()
    (site / "data.bin.gz").write_bytes(packed[: len(packed) // 2])
    out = sh("gunzip data.bin.gz")
    assert out.err == "error: corrupt or truncated archive data.bin.gz: unexpected end of data\n"
    assert not (site / "data.bin").exists() and (site / "data.bin.gz").exists()
    assert not [p for p in os.listdir(site) if p.endswith(".part")]
    (site / "junk.gz").write_bytes(b"not gzip at all")
    assert "Not a gzipped file" in sh("gunzip junk.gz").err


def test_gzip_streams_in_constant_memory(sh, site):
    random_file(site / "big.bin", 32)
    with peak_memory() as peak:
        assert sh("gzip -l 1 big.bin").ok
        assert sh("gunzip big.bin.gz").ok
    assert peak[0] < 8 * 1024 * 1024, f"peak {peak[0]} bytes for a 32 MiB file"


def test_completion_of_archive_subcommands_and_paths(sh, site):
    sh.ok("archive create out.tgz site")
    assert complete(sh, "archive ex") == ["extract"]
    assert complete(sh, "archive extract ou") == ["out.tgz"]
    assert complete(sh, "archive extract out.tgz --to s") == ["site/"]
    assert complete(sh, "gunzip o") == ["out.tgz"]
