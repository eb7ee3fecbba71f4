"""opsh installs under one namespace (`opsh.shell`, `opsh.commands`, `opsh.history`), so it can
share an environment with packages that ship generic top-level names such as `commands`."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("shell", "commands", "history")


def _python_files() -> list[Path]:
    return [p for d in (*SOURCE_DIRS, "tests") for p in (ROOT / d).rglob("*.py")] + [ROOT / "__main__.py"]


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
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(("opsh.commands", "opsh.history")):
                upward.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}")
    assert upward == []


def test_the_wheel_works_beside_a_package_with_a_top_level_commands(tmp_path: Path) -> None:
    """portal-cli ships a top-level `commands/` (with a scan.py): it once overwrote opsh's."""
    source, wheels = tmp_path / "src", tmp_path / "wheels"
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv*", "build", "*.egg-info", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("opsh-*.whl")
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel), "portal-cli"], capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr
    checked = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True)
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
