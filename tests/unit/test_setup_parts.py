"""`tests/run PATHS` sets up only what the selected test folders need (tests/setup.sh's
PART_FOLDERS). A folder whose tests use a part its list leaves out would pass on a machine set up
before and fail on a fresh one, so the lists are checked here against what the tests use."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"

# The names by which a test reaches each optional part, and the module that defines them.
USES = {
    "gateway_env": (TESTS / "servers" / "gateway.py", {"fleet", "start_fleet", "gateway_venv"}),
    "mongo_server": (
        TESTS / "servers" / "mongo.py",
        {"mongo_server", "own_mongo", "mongo_auth_server", "start_mongo", "server_binary"},
    ),
    "mongosh": (TESTS / "mongo" / "conftest.py", {"mongosh_binary", "run_mongosh"}),
}
ALL_PARTS = ["gateway_env", "mongo_server", "mongosh"]


def parts_for(*pytest_args: str) -> list[str]:
    script = 'source tests/setup.sh && parts_for "$@"'
    done = subprocess.run(["bash", "-c", script, "parts_for", *pytest_args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def names_used(folder: Path) -> set[str]:
    """Every identifier the folder's code mentions: fixture parameters, calls, imports."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.alias):
                names.add(node.name.split(".")[-1])
    return names


def folders_with_tests() -> list[str]:
    return sorted(d.name for d in TESTS.iterdir() if d.is_dir() and any(d.rglob("test_*.py")))


@pytest.mark.parametrize("part", ALL_PARTS)
def test_the_names_that_need_a_part_are_still_defined_where_the_check_looks(part: str) -> None:
    module, names = USES[part]
    tree = ast.parse(module.read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    assert names - defined == set()


@pytest.mark.parametrize("folder", folders_with_tests())
def test_a_run_of_one_folder_sets_up_every_part_its_tests_use(folder: str) -> None:
    used = names_used(TESTS / folder)
    needed = [part for part in ALL_PARTS if used & USES[part][1]]
    assert set(needed) <= set(parts_for(f"tests/{folder}")), f"add {folder} to PART_FOLDERS in tests/setup.sh"


def test_a_run_with_no_path_sets_up_everything() -> None:
    assert parts_for() == ALL_PARTS
    assert parts_for("-x", "-k", "redis", "-p", "no:cacheprovider") == ALL_PARTS


def test_the_unit_tests_need_the_mongo_server_only() -> None:
    assert parts_for("tests/unit", "-x", "-q", "-p", "no:cacheprovider") == ["mongo_server"]
    assert parts_for("tests/unit/test_packaging.py::test_pyproject_lists_every_package") == ["mongo_server"]


def test_folders_add_up_and_some_need_nothing_extra() -> None:
    assert parts_for("tests/sql", "tests/redis") == []
    assert parts_for("tests/sql", "./tests/ssh") == ["gateway_env"]
    assert parts_for(str(TESTS / "mongo")) == ["mongo_server", "mongosh"]


def test_a_path_outside_the_test_folders_sets_up_everything() -> None:
    assert parts_for("tests/unit", "tests/helpers.py") == ALL_PARTS
    assert parts_for("tests") == ALL_PARTS
