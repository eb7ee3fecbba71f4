"""What extraction keeps: modes and names, compared with GNU tar and Info-ZIP on the same archives.

The tree below is packed by GNU tar and by Info-ZIP zip (both installed by tests/setup.sh) and
by opsh itself; each archive is unpacked by opsh and by the reference tool, and the two trees
are compared entry by entry (name, type, permission bits). By default opsh behaves as unzip
does (setuid and setgid dropped), except that it keeps the sticky bit as `tar -xp` does (unzip
drops it too: the bit only restricts who may delete, it grants nothing); with
--preserve-special it behaves as `tar -xp` does (every bit kept).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

MODES = {  # name -> permission bits in the source tree
    "d700": 0o700,
    "d750": 0o750,
    "d711": 0o711,
    "d2775": 0o2775,
    "d1777": 0o1777,
    "d700/inner.txt": 0o640,
    "ro.txt": 0o444,
    "run.sh": 0o755,
    "setuid-tool": 0o4755,
    "setgid-tool": 0o2711,
    "emoji-🚀.txt": 0o600,
    "Grüße/naïve.txt": 0o644,
    "Grüße": 0o755,
}
DIRS = {"d700", "d750", "d711", "d2775", "d1777", "Grüße"}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Files and directories with the modes above (made with umask 0 in effect)."""
    root = tmp_path / "src"
    root.mkdir()
    for name in sorted(DIRS):
        (root / name).mkdir()
    for name in sorted(set(MODES) - DIRS):
        (root / name).write_text(f"{name}\n")
    for name, mode in sorted(MODES.items(), key=lambda item: -item[0].count("/")):
        os.chmod(root / name, mode)
    return root


def modes_of(root: Path) -> dict[str, tuple[str, int]]:
    """name -> (type, permission bits incl. setuid/setgid/sticky) below root."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        kind = "dir" if stat.S_ISDIR(st.st_mode) else "link" if stat.S_ISLNK(st.st_mode) else "file"
        out[str(path.relative_to(root))] = (kind, stat.S_IMODE(st.st_mode))
    return out


def without_special(modes: dict[str, tuple[str, int]]) -> dict[str, tuple[str, int]]:
    return {name: (kind, mode & ~(stat.S_ISUID | stat.S_ISGID)) for name, (kind, mode) in modes.items()}


def sticky_kept(modes: dict[str, tuple[str, int]], name: str) -> dict[str, tuple[str, int]]:
    """unzip's result with the sticky bit that opsh (and tar -xp) keep."""
    kind, mode = modes[name]
    return {**modes, name: (kind, mode | stat.S_ISVTX)}


def run(*argv: str, cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)


def gnu_tar(tree: Path, out: Path) -> Path:
    run("tar", "-cf", str(out), ".", cwd=tree)
    return out


def info_zip(tree: Path, out: Path) -> Path:
    run("zip", "-qry", str(out), ".", cwd=tree)
    return out


def test_the_tree_has_the_modes_it_should(tree):
    assert {name: mode for name, (_, mode) in modes_of(tree).items()} == MODES


def test_gnu_tar_archive_keeps_modes_and_names_like_tar_xp(sh, tree, tmp_path):
    archive = gnu_tar(tree, tmp_path / "gnu.tar")
    reference = tmp_path / "by-tar"
    reference.mkdir()
    run("tar", "-xpf", str(archive), cwd=reference)
    sh.ok(f"archive extract {archive} --to by-opsh-special --preserve-special")
    sh.ok(f"archive extract {archive} --to by-opsh")
    assert modes_of(tmp_path / "by-opsh-special") == modes_of(reference) == modes_of(tree)
    assert modes_of(tmp_path / "by-opsh") == without_special(modes_of(reference))


def test_info_zip_archive_keeps_modes_and_names_like_unzip(sh, tree, tmp_path):
    archive = info_zip(tree, tmp_path / "info.zip")
    assert not any(i.flag_bits & 0x800 for i in zipfile.ZipFile(archive).infolist())  # no UTF-8 flag
    for flags, target, opsh_option in (([], "unzip", ""), (["-K"], "unzip-K", " --preserve-special")):
        reference = tmp_path / target
        reference.mkdir()
        run("unzip", "-q", *flags, str(archive), cwd=reference)
        sh.ok(f"archive extract {archive} --to opsh-{target}{opsh_option}")
        assert modes_of(tmp_path / f"opsh-{target}") == sticky_kept(modes_of(reference), "d1777")
    assert modes_of(tmp_path / "opsh-unzip") == without_special(modes_of(tree))
    assert {r["name"].rstrip("/") for r in sh.json(f"archive list {archive}")} == set(MODES)


def test_info_zip_directory_times_are_restored_like_unzip(sh, tree, tmp_path):
    archive = info_zip(tree, tmp_path / "info.zip")
    (tmp_path / "unzip").mkdir()
    run("unzip", "-q", str(archive), cwd=tmp_path / "unzip")
    sh.ok(f"archive extract {archive} --to opsh")
    for name in ("d700", "Grüße"):
        ours, theirs = ((tmp_path / where / name).stat().st_mtime for where in ("opsh", "unzip"))
        assert abs(ours - theirs) <= 2  # zip's DOS time has a 2-second resolution


@pytest.mark.parametrize("ext", ["tar", "tar.gz", "tar.xz", "zip"])
def test_opsh_round_trip_keeps_modes(sh, tree, tmp_path, ext):
    sh.ok(f"archive create packed.{ext} src")
    sh.ok(f"archive extract packed.{ext} --to plain")
    sh.ok(f"archive extract packed.{ext} --to special --preserve-special")
    assert modes_of(tmp_path / "plain" / "src") == without_special(modes_of(tree))
    assert modes_of(tmp_path / "special" / "src") == modes_of(tree)


def test_a_read_only_directory_still_receives_its_files(sh, tmp_path):
    src = tmp_path / "ro"
    src.mkdir()
    (src / "inside.txt").write_text("x\n")
    src.chmod(0o555)
    try:
        for ext in ("tar", "zip"):
            sh.ok(f"archive create ro.{ext} ro")
            sh.ok(f"archive extract ro.{ext} --to out-{ext}")
            out = tmp_path / f"out-{ext}" / "ro"
            assert (out / "inside.txt").read_text() == "x\n"
            assert stat.S_IMODE(out.stat().st_mode) == 0o555
    finally:
        for path in (src, tmp_path / "out-tar" / "ro", tmp_path / "out-zip" / "ro"):
            if path.exists():
                path.chmod(0o755)


def zip_with_raw_names(path: Path, made_on: int) -> Path:
    """Names without the UTF-8 flag: one in UTF-8 (as Info-ZIP writes them on Linux), one with
    the byte 0x82, which is no UTF-8 (é in cp437, a Latin-1 control character on Unix)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in (("utf8-XXXX.txt", "a"), ("caf#.txt", "b"), ("dir#/in.txt", "c")):
            info = zipfile.ZipInfo(name)
            info.create_system = made_on
            zf.writestr(info, data)
    data = path.read_bytes().replace(b"XXXX", "🚀".encode()).replace(b"#", b"\x82")  # same lengths: offsets hold
    path.write_bytes(data)
    return path


def test_zip_names_from_unix_keep_their_bytes_as_unzip_and_tar_do(sh, tmp_path):
    archive = zip_with_raw_names(tmp_path / "unix.zip", made_on=3)
    (tmp_path / "unzip").mkdir()
    run("unzip", "-q", str(archive), cwd=tmp_path / "unzip")
    sh.ok("archive extract unix.zip --to opsh")
    expected = {b"utf8-\xf0\x9f\x9a\x80.txt", b"caf\x82.txt", b"dir\x82", b"dir\x82/in.txt"}
    assert tree_bytes(tmp_path / "opsh") == tree_bytes(tmp_path / "unzip") == expected
    assert (tmp_path / "opsh" / "caf\udc82.txt").read_text() == "b"  # Python's name for those bytes
    names = {r["name"] for r in sh.json("archive list unix.zip")}
    assert names == {"utf8-🚀.txt", "caf\udc82.txt", "dir\udc82/in.txt"}


def test_zip_names_from_dos_are_cp437_as_unzip_reads_them(sh, tmp_path):
    """unzip converts them to Latin-1 bytes (what no UTF-8 system shows as é); opsh to UTF-8."""
    archive = zip_with_raw_names(tmp_path / "dos.zip", made_on=0)
    (tmp_path / "unzip").mkdir()
    run("unzip", "-q", str(archive), cwd=tmp_path / "unzip")
    sh.ok("archive extract dos.zip --to opsh")
    by_unzip = {name.decode("latin-1") for name in tree_bytes(tmp_path / "unzip") if not name.startswith(b"utf8")}
    by_opsh = {name.decode() for name in tree_bytes(tmp_path / "opsh")}
    assert by_unzip == {"café.txt", "diré", "diré/in.txt"}
    assert by_opsh == by_unzip | {"utf8-🚀.txt"}
    assert (tmp_path / "opsh" / "diré" / "in.txt").read_text() == "c"


def tree_bytes(root: Path) -> set[bytes]:
    """Every name below root as the bytes on disk."""
    found = set()
    for base, dirs, files in os.walk(os.fsencode(root)):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(base, name), os.fsencode(root)))
    return found


def test_the_escape_checks_still_apply_to_utf8_names(sh, tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("XX/../../evil.txt", "pwned")
    archive.write_bytes(archive.read_bytes().replace(b"XX/", "é/".encode()))
    out = sh.fails("archive extract evil.zip --to dest", "goes up with '..'")
    assert "é/../../evil.txt" in out.err
    assert not (tmp_path / "evil.txt").exists()


def test_help_says_what_happens_to_setuid_bits(sh):
    text = sh.ok("help archive extract").text
    assert "--preserve-special" in text and "setuid" in text and "dropped" in text


def test_reference_tools_are_installed():
    for tool in ("tar", "zip", "unzip"):
        assert shutil.which(tool), f"{tool} is missing: tests/setup.sh installs it"
