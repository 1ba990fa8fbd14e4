"""The layering rules of docs/architecture.md, checked on the source tree so they cannot drift."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "monographs"

# Modules that must read through selectors and write through services or the workflow.
DOORS_ONLY = [
    *sorted((APP / "api").glob("*.py")),
    APP / "fhir.py",
    APP / "transfer.py",
    APP / "views.py",
    APP / "feeds.py",
    *sorted((APP / "templatetags").glob("*.py")),
]
ORM_CALL = re.compile(r"\.objects\b|\.save\(|\.delete\(")


def python_files():
    for top in ("monographs", "formulary", "bench", "tests"):
        yield from sorted((ROOT / top).rglob("*.py"))


@pytest.mark.parametrize("path", DOORS_ONLY, ids=lambda p: str(p.relative_to(ROOT)))
def test_api_fhir_transfer_views_and_tags_do_not_call_the_orm(path):
    hits = [
        f"{path.name}:{n}: {line.strip()}"
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if ORM_CALL.search(line)
    ]
    assert not hits, "read through selectors/working_copy, write through services/workflow:\n" + "\n".join(hits)


def _private_imports(path, root=ROOT):
    tree = ast.parse(path.read_text(), filename=str(path))
    modules = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: from {node.module} import {alias.name}")
                else:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                modules.add((alias.asname or alias.name).split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and node.attr != "_meta"  # Django's documented Model._meta API
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_imports_a_private_name_of_another():
    found = [hit for path in python_files() for hit in _private_imports(path)]
    assert not found, "\n".join(found)


def test_the_private_name_check_catches_one(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from reversion.revisions import _get_options\nfrom monographs import snapshots\nsnapshots._plain\n"
    )
    assert len(_private_imports(planted, root=tmp_path)) == 2


def test_the_domain_app_holds_no_benchmark_or_synthetic_data_code():
    assert not (APP / "generation.py").exists()
    commands = {p.stem for p in (APP / "management" / "commands").glob("*.py")}
    assert "generate_formulary" not in commands
    for path in APP.rglob("*.py"):
        assert "bench" not in {
            (node.module or "").split(".")[0]
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom)
        }, path
