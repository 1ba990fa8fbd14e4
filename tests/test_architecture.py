"""The layering rules of docs/architecture.md, checked on the source tree so they cannot drift.

The table of allowed imports is `LAYERS` below: every module of formulary/, monographs/ and
directory/ belongs to one group; a module may import modules of its own group and of any group
on a lower layer, never above and never a peer on its own layer. The few imports that break
this today are `EXCEPTIONS`, each with the move that would end it. The diagram in
docs/architecture.md is generated from the table (`diagram()`) and must appear there as it is.

An AST checker rather than import-linter: import-linter sees import statements only, so it
cannot catch a private name reached as `getattr(snapshots, "_plain")` or `snapshots._plain`, and
the table would then live in two tools. Here one table drives the layer check, the private-name
check and the diagram; `test_planted_*` below show each kind of miss is caught.
"""

import ast
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "monographs"
PACKAGES = ("formulary", "monographs", "directory")
ARCHITECTURE_DOC = ROOT / "docs" / "architecture.md"

# Bottom layer first. Each layer holds one group, or several peers that never import each other.
# A pattern is a module's dotted name, or "package.*": the package and everything in it.
LAYERS = [
    [
        (
            "plain",  # no database, no Django models: rules, parsers and formats as plain Python
            [
                "monographs.vocabulary",
                "monographs.text_rules",
                "monographs.glossary",
                "monographs.packs",
                "monographs.periods",
                "monographs.rendering",
                "monographs.importing",
                "monographs.pdf_parts",
                "monographs.signals",
                "monographs.roles",
                "directory.ldap",
                "formulary.client_ip",
                "formulary.formats.*",
            ],
        )
    ],
    [
        (
            "models",  # storage: the models, the workflow's table, and the publication counters (read and moved)
            ["monographs.models", "monographs.transitions", "monographs.publication", "directory.models"],
        )
    ],
    [("snapshots", ["monographs.snapshots", "monographs.diffing", "monographs.checks", "monographs.fhir"])],
    [("reads", ["monographs.selectors", "monographs.working_copy", "monographs.search"])],
    [
        (
            "effects",  # work done beside a transition: mail, queued jobs, booklets, rendered parts, the digest
            [
                "monographs.jobs",
                "monographs.outbox",
                "monographs.notifications",
                "monographs.digest",
                "monographs.booklet",
                "monographs.booklet_store",
                "monographs.fragments",
            ],
        )
    ],
    [
        (
            "writes",
            [
                "monographs.services",
                "monographs.workflow",
                "monographs.transfer",
                "monographs.demo",
                "directory.accounts",
            ],
        )
    ],
    # HTTP plumbing shared by the doors that serve the public (pages, REST, FHIR): caching
    # headers and conditional GET, and the per-client rate limits (one search budget for all).
    [("http", ["monographs.http_cache", "monographs.throttling"])],
    [
        (
            "pages",
            [
                "monographs.views",
                "monographs.feeds",
                "monographs.urls",
                "monographs.public_cache",
                "monographs.templatetags.*",
            ],
        ),
        ("api", ["monographs.api.*"]),
        (
            "admin",
            [
                "monographs.admin",
                "monographs.admin_review",
                "monographs.admin_home",
                "monographs.forms",
                "directory.admin",
                "directory.forms",
                "directory.templatetags.*",
            ],
        ),
        ("commands", ["monographs.management.*", "monographs.tasks", "directory.management.*"]),
    ],
    [
        (
            "project",  # the wiring: settings, URLs, middleware, app configs, signal receivers
            [
                "formulary",
                "formulary.settings",
                "formulary.urls",
                "formulary.middleware",
                "formulary.admin_site",
                "formulary.apps",
                "formulary.checks",
                "formulary.asgi",
                "formulary.wsgi",
                "formulary.devdb",
                "monographs",
                "monographs.apps",
                "monographs.receivers",
                "directory",
                "directory.apps",
                "directory.receivers",
                "directory.backends",
                "directory.middleware",
            ],
        )
    ],
]

# Imports the table does not allow, kept until the code moves that end them are made.
EXCEPTIONS: dict[tuple[str, str], str] = {}


def groups(layers=LAYERS):
    """{group: (layer index, patterns)}."""
    return {name: (level, patterns) for level, layer in enumerate(layers) for name, patterns in layer}


def _matches(pattern, module):
    if pattern.endswith(".*"):
        package = pattern[:-2]
        return module == package or module.startswith(package + ".")
    return module == pattern


def group_of(module, layers=LAYERS):
    """The groups whose patterns match `module` (exactly one for a placed module)."""
    return [name for name, (_level, patterns) in groups(layers).items() if any(_matches(p, module) for p in patterns)]


def module_name(path, root):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root=ROOT, packages=PACKAGES):
    """{dotted name: path} of every module of the packages, migrations left out (they import no
    live code: tests/test_migrations.py)."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" not in path.relative_to(root).parts:
                found[module_name(path, root)] = path
    return found


def _base_of(node, module, path):
    """The absolute module an ImportFrom reads from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def imports_of(path, module, known, packages=PACKAGES):
    """[(line, imported module)] of the project's modules that `module` imports, at any depth
    (function-level and TYPE_CHECKING imports count: they state a dependency all the same)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] in packages]
        elif isinstance(node, ast.ImportFrom):
            base = _base_of(node, module, path)
            if base.split(".")[0] not in packages:
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append((node.lineno, submodule if submodule in known else base))
    return [(line, name) for line, name in found if name != module]


def unplaced(root=ROOT, layers=LAYERS, packages=PACKAGES):
    """Modules in no group of the table, or in more than one."""
    return sorted(
        f"{name}: in {found or 'no group'}"
        for name in modules(root, packages)
        if len(found := group_of(name, layers)) != 1
    )


def layer_violations(root=ROOT, layers=LAYERS, exceptions=EXCEPTIONS, packages=PACKAGES):
    """Imports that go up the layers or sideways to a peer group, other than `exceptions`."""
    table = groups(layers)
    known = modules(root, packages)
    found = []
    for name, path in known.items():
        (mine,) = group_of(name, layers) or [None]
        for line, imported in imports_of(path, name, known, packages):
            (theirs,) = group_of(imported, layers) or [None]
            if mine is None or theirs is None or mine == theirs or (name, imported) in exceptions:
                continue
            if table[theirs][0] >= table[mine][0]:
                found.append(f"{path.relative_to(root)}:{line}: {name} ({mine}) imports {imported} ({theirs})")
    return found


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def _private_module(dotted):
    return any(_private(part) for part in dotted.split("."))


# Django's documented Model._meta API, reached on model classes the module imported.
ALLOWED_PRIVATE = {"_meta"}
REFLECTION = {"getattr", "hasattr", "setattr", "delattr"}


def private_uses(path, root=ROOT):
    """Every private (leading underscore) name of another module reached by any spelling:
    `from m._x import y`, `import m._x`, `from m import _x`, `m._x` and `getattr(m, "_x")` on a
    name the module imported, and `import_module("m._x")`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(root)
    imported = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if _private_module(node.module or ""):
                found.append(f"{where}:{node.lineno}: from {'.' * node.level}{node.module} (a private module)")
            for alias in node.names:
                if _private(alias.name):
                    found.append(
                        f"{where}:{node.lineno}: from {'.' * node.level}{node.module or ''} import {alias.name}"
                    )
                else:
                    imported.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _private_module(alias.name):
                    found.append(f"{where}:{node.lineno}: import {alias.name} (a private module)")
                if alias.asname:
                    imported.add(alias.asname)
                else:  # `import a.b.c` binds a, and a.b.c is reached through it
                    parts = alias.name.split(".")
                    imported.update(".".join(parts[: n + 1]) for n in range(len(parts)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in ALLOWED_PRIVATE:
            # On an imported name or module path: an attribute of an object it returns is its own.
            if ast.unparse(node.value) in imported:
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and node.args:
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first, constant = node.args[0], node.args[1] if len(node.args) > 1 else None
            if (
                isinstance(node.func, ast.Name)  # the builtins; a test's monkeypatch.setattr is its own business
                and function in REFLECTION
                and isinstance(first, ast.Name)
                and first.id in imported
                and isinstance(constant, ast.Constant)
                and isinstance(constant.value, str)
                and _private(constant.value)
            ):
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
            if (
                function == "import_module"
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and _private_module(first.value)
            ):
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


def diagram(layers=LAYERS, width=100):
    """The layer diagram of docs/architecture.md, top layer first: each group with its modules,
    an arrow from each layer to the ones it may import."""
    lines = []
    for level in reversed(range(len(layers))):
        layer = layers[level]
        for name, patterns in layer:
            text = ", ".join(patterns)
            wrapped = textwrap.wrap(text, width=width - 14, break_on_hyphens=False) or [""]
            lines.append(f"{name:<12}  {wrapped[0]}".rstrip())
            lines += [f"{'':<14}{rest}" for rest in wrapped[1:]]
        if len(layer) > 1:
            lines.append(f"{'':<14}({', '.join(name for name, _ in layer)}: peers, none imports another)")
        if level:
            lines.append("      │")
            lines.append("      ▼")
    return "\n".join(lines)


def documented_diagram(text):
    """The code block of the section "The layers" of docs/architecture.md."""
    match = re.search(r"## The layers[^\n]*\n.*?```\n(.*?)\n```", text, re.DOTALL)
    return match.group(1) if match else None


# --- The checks on the real tree ---------------------------------------------------------


def test_every_module_is_in_exactly_one_group_of_the_table():
    assert not unplaced(), "place each module in one group of LAYERS:\n" + "\n".join(unplaced())


def test_no_module_imports_up_the_layers_or_a_peer():
    found = layer_violations()
    assert not found, "see docs/architecture.md, 'The layers':\n" + "\n".join(found)


def test_every_exception_is_still_needed():
    known = modules()
    used = {(name, imported) for name, path in known.items() for _line, imported in imports_of(path, name, known)}
    assert set(EXCEPTIONS) <= used, f"no longer imported, drop from EXCEPTIONS: {set(EXCEPTIONS) - used}"


def test_the_documented_diagram_is_the_table():
    expected = diagram()
    assert documented_diagram(ARCHITECTURE_DOC.read_text()) == expected, (
        "docs/architecture.md's layer diagram differs from LAYERS; it should read:\n" + expected
    )


def test_the_documented_exceptions_are_the_table():
    text = ARCHITECTURE_DOC.read_text()
    for importer, imported in EXCEPTIONS:
        assert f"`{importer}` → `{imported}`" in text, f"document the exception {importer} → {imported}"


def python_files():
    for top in (*PACKAGES, "bench", "tests"):
        yield from sorted((ROOT / top).rglob("*.py"))


def test_no_module_uses_a_private_name_of_another():
    found = [hit for path in python_files() for hit in private_uses(path)]
    assert not found, "\n".join(found)


# --- Planted misses: each kind of violation is caught ------------------------------------


def _plant(root, files):
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            if parent != Path("."):
                (root / parent / "__init__.py").touch()
        path.write_text(textwrap.dedent(source))


@pytest.fixture
def planted(tmp_path):
    """A tree with one module of each group the plants below use, importing only downwards."""
    _plant(
        tmp_path,
        {
            "monographs/models.py": "",
            "monographs/snapshots.py": "from .models import *\ndef _plain(value):\n    return value\n",
            "monographs/working_copy.py": "from . import models\n",
            "monographs/workflow.py": "from . import working_copy\n",
            "monographs/public_cache.py": "",
            "monographs/views.py": "from monographs import selectors\n",
            "monographs/selectors.py": "",
            "monographs/admin_review.py": "from . import workflow\n",
            "monographs/api/throttling.py": "",
        },
    )
    return tmp_path


def test_planted_tree_starts_clean(planted):
    assert layer_violations(planted, exceptions={}) == []
    assert unplaced(planted) == []


@pytest.mark.parametrize(
    "module, source, imported",
    [
        # working_copy (reads) calling workflow (writes): the wrong way up
        ("monographs/working_copy.py", "from . import workflow\n", "monographs.workflow"),
        ("monographs/working_copy.py", "def later():\n    from .workflow import submit\n", "monographs.workflow"),
        # a write reaching a page module
        ("monographs/workflow.py", "import monographs.public_cache\n", "monographs.public_cache"),
        # peers: the admin reading a public view, a view reading the API's module
        ("monographs/admin_review.py", "from .views import entry_detail\n", "monographs.views"),
        (
            "monographs/views.py",
            "from monographs.api.throttling import SearchRateThrottle\n",
            "monographs.api.throttling",
        ),
        ("monographs/views.py", "from .api import throttling\n", "monographs.api.throttling"),
        # under TYPE_CHECKING it is still a dependency of the design
        (
            "monographs/selectors.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from monographs.workflow import Change\n",
            "monographs.workflow",
        ),
    ],
)
def test_planted_layer_violation_is_caught(planted, module, source, imported):
    (planted / module).write_text(source)
    found = layer_violations(planted, exceptions={})
    assert len(found) == 1 and found[0].endswith(f"imports {imported} ({group_of(imported)[0]})"), found


def test_an_exception_lets_only_its_own_import_through(planted):
    (planted / "monographs/admin_review.py").write_text("from . import views\n")
    (planted / "monographs/views.py").write_text("from .api import throttling\n")
    exceptions = {("monographs.admin_review", "monographs.views"): "planted"}
    assert [hit.split(": ", 1)[1] for hit in layer_violations(planted, exceptions=exceptions)] == [
        "monographs.views (pages) imports monographs.api.throttling (api)"
    ]


def test_planted_unplaced_module_is_caught(planted):
    _plant(planted, {"monographs/leaflets.py": "", "directory/sync/__init__.py": ""})
    assert unplaced(planted) == ["directory.sync: in no group", "monographs.leaflets: in no group"]


@pytest.mark.parametrize(
    "source",
    [
        "from monographs._internal import x\n",
        "from ._internal import x\n",
        "import monographs._internal\n",
        "import monographs._internal as internal\n",
        "from monographs.snapshots import _plain\n",
        "from .snapshots import _plain as plain\n",
        "from . import _internal\n",
        "from monographs import snapshots\nsnapshots._plain(1)\n",
        "import monographs.snapshots\nmonographs.snapshots._plain(1)\n",
        'from monographs import snapshots\ngetattr(snapshots, "_plain")(1)\n',
        'from . import snapshots\nplain = getattr(snapshots, "_plain", None)\n',
        'import importlib\nimportlib.import_module("monographs._internal")\n',
        "def later():\n    from monographs.snapshots import _plain\n",
    ],
)
def test_planted_private_name_is_caught(planted, source):
    path = planted / "monographs" / "views.py"
    path.write_text(source)
    assert len(private_uses(path, root=planted)) == 1


@pytest.mark.parametrize(
    "source",
    [
        "from monographs import snapshots\nsnapshots.strength_text\n",
        "from .models import Entry\nEntry._meta.get_field('slug')\n",  # Django's documented API
        "from django.utils.translation import gettext as _\n",
        'def read(request):\n    return getattr(request, "_cached_user", None)\n',  # not another module
        "class Page:\n    def _own(self):\n        return self._own\n",
    ],
)
def test_public_names_and_own_private_names_pass(planted, source):
    path = planted / "monographs" / "views.py"
    path.write_text(source)
    assert private_uses(path, root=planted) == []


def test_a_diagram_out_of_step_with_the_table_is_caught():
    moved = [[(name, list(patterns)) for name, patterns in layer] for layer in LAYERS]
    moved[3], moved[5] = moved[5], moved[3]  # reads above writes, as the diagram once had it
    assert diagram(moved) != diagram()
    doc = ARCHITECTURE_DOC.read_text().replace(diagram(), diagram(moved))
    assert documented_diagram(doc) != diagram()


# --- The other rules ------------------------------------------------------------------------

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


@pytest.mark.parametrize("path", DOORS_ONLY, ids=lambda p: str(p.relative_to(ROOT)))
def test_api_fhir_transfer_views_and_tags_do_not_call_the_orm(path):
    hits = [
        f"{path.name}:{n}: {line.strip()}"
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if ORM_CALL.search(line)
    ]
    assert not hits, "read through selectors/working_copy, write through services/workflow:\n" + "\n".join(hits)


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
