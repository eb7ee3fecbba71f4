"""opsh installs under one namespace (`opsh.shell`, `opsh.commands`, `opsh.history`), so it can
share an environment with packages that ship generic top-level names such as `commands`. The
checkout has that shape already (opsh/ links to the top-level folders), so tools read it as is."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("shell", "commands", "history")
PACKAGE = ROOT / "opsh"


def _python_files() -> list[Path]:
    return [p for d in (*SOURCE_DIRS, "tests") for p in (ROOT / d).rglob("*.py")] + sorted(PACKAGE.glob("*.py"))


def _installed_modules() -> set[str]:
    """What the wheel must hold: opsh/'s own files and every module of the top-level folders."""
    return {f"opsh/{p.name}" for p in PACKAGE.glob("*.py")} | {
        f"opsh/{p.relative_to(ROOT)}" for d in SOURCE_DIRS for p in (ROOT / d).rglob("*.py")
    }


def test_the_package_folder_is_links_to_the_top_level_folders() -> None:
    """Relative links, so a clone anywhere has them; copies would drift from the real folders."""
    assert sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__") == sorted(
        ["__init__.py", "__main__.py", *SOURCE_DIRS]
    )
    for name in SOURCE_DIRS:
        link = PACKAGE / name
        assert link.is_symlink() and str(link.readlink()) == f"../{name}"


def test_the_checkout_imports_as_opsh_with_nothing_installed() -> None:
    """-S: no site-packages, so no editable install's import hook; only the tree itself."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", "import opsh.shell.result as r; print(r.__file__)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(PACKAGE / "shell" / "result.py")


def test_no_module_imports_the_bare_top_level_names() -> None:
    bare = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            bare += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in SOURCE_DIRS]
    assert bare == []


def test_pyproject_lists_every_package() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"opsh"} | {
        "opsh." + ".".join(init.parent.relative_to(ROOT).parts)
        for d in SOURCE_DIRS
        for init in (ROOT / d).rglob("__init__.py")
    }
    assert listed == found


def test_shell_imports_nothing_from_commands_or_history() -> None:
    """The core sits at the bottom: commands and history build on it, never the reverse."""
    upward = []
    for path in (ROOT / "shell").rglob("*.py"):
        if path.name == "app.py":
            continue  # the entry wires history and the command modules in
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith(("opsh.commands", "opsh.history"))
            ):
                upward.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}")
    assert upward == []


def test_the_wheel_works_beside_a_package_with_a_top_level_commands(tmp_path: Path) -> None:
    """portal-cli ships a top-level `commands/` (with a scan.py): it once overwrote opsh's."""
    source, wheels = tmp_path / "src", tmp_path / "wheels"
    # Built from a copy (setuptools writes build/ and *.egg-info next to the sources) that keeps
    # opsh/'s links, as a clone has them.
    ignore = shutil.ignore_patterns(".git", ".venv*", ".node", "build", "*.egg-info", "__pycache__")
    shutil.copytree(ROOT, source, symlinks=True, ignore=ignore)
    build = ["wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)]
    subprocess.run([sys.executable, "-m", "pip", *build], check=True, capture_output=True)
    (wheel,) = wheels.glob("opsh-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        modules = {name for name in archive.namelist() if not name.startswith("opsh-")}
    assert modules == _installed_modules()
    env_dir = tmp_path / "env"
    venv.create(env_dir)  # without pip of its own (3 s saved): the suite's pip works on it
    python = env_dir / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    install = subprocess.run([*pip, "install", "-q", str(wheel), "portal-cli"], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    checked = subprocess.run([*pip, "check"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout

    def opsh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(env_dir / "bin" / "opsh"), *args], capture_output=True, text=True, cwd=tmp_path, timeout=60
        )

    out = opsh("-c", "hash sha256 --text abc --format csv; scan 127.0.0.1 1 --format csv")
    assert out.returncode == 0, out.stderr
    assert "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" in out.stdout
    assert "127.0.0.1,1," in out.stdout
    assert opsh("--version").stdout.strip().startswith("opsh ")
    as_module = subprocess.run(
        [str(python), "-m", "opsh", "-c", "echo from-module"], capture_output=True, text=True, cwd=tmp_path
    )
    assert as_module.stdout == "from-module\n", as_module.stderr
    # portal-cli's own modules are intact too: neither package wrote over the other.
    import_both = subprocess.run(
        [str(python), "-c", "import commands.scan, opsh.commands.scan; print(commands.scan.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert import_both.returncode == 0 and "site-packages/commands/scan.py" in import_both.stdout, import_both.stderr
