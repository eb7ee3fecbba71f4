"""README's Layout is the map of the tree: one line per package, and each module of the core by
name. It once left out shell/result.py (the type every command returns) and nine other modules;
these tests make a package or a core module that the map does not name fail the suite."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAPPED = ("shell", "commands", "history", "tests")


def layout_block() -> list[str]:
    """The lines of the code block in README's "## Layout" section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1].strip("\n").splitlines()


def entries() -> dict[str, list[str]]:
    """Package path (`commands/ssh/hosts`) -> its line and the indented lines under it."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in layout_block():
        if line.startswith(" "):
            current.append(line)
            continue
        path = line.split()[0]
        assert path.endswith("/"), f"a map line names a folder: {line!r}"
        current = found.setdefault(path.rstrip("/"), [line])
    return found


def packages_in_tree() -> set[str]:
    return {
        str(init.parent.relative_to(ROOT))
        for top in MAPPED
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def shell_modules() -> set[str]:
    return {p.stem for p in (ROOT / "shell").glob("*.py") if p.stem != "__init__"}


def test_every_package_has_its_line() -> None:
    assert sorted(packages_in_tree() - entries().keys()) == []


def test_every_line_names_a_package_that_exists() -> None:
    named = {path for path in entries() if path.split("/")[0] in MAPPED}
    assert sorted(named - packages_in_tree()) == []


def test_every_module_of_the_core_is_named_once_under_shell() -> None:
    names = [line.split()[0] for line in entries()["shell"][1:]]
    assert sorted(shell_modules() - set(names)) == []  # missing from the map
    assert sorted(set(names) - shell_modules()) == []  # on the map, not in the tree
    assert len(names) == len(set(names))
