"""The shape of the code students read: layers that import one way, and short files and functions.

tfcore's layers, bottom to top: `framework` (graph, registry, shapes, dtypes); `platform` (tf.app,
flags, logging, gfile) and `datasets`; `devices` and `ops`; `train` and `summary`; `client` (the
session and its plan); and the public facade (`tfcore/__init__.py`, `tfcore/nn.py`, ...). A module
imports from its own layer or from layers below; two layers on one level import nothing from each
other; no import cycle exists between modules, and no import hides inside a function to break one.
Nothing in tfcore imports the course.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

LEVELS = {"framework": 0, "platform": 1, "datasets": 1, "devices": 2, "ops": 2, "train": 3, "summary": 3,
          "client": 4}
FACADE_LEVEL = 5  # tfcore/__init__.py, tfcore/nn.py, tfcore/contrib/, tfcore/examples/, ...

# Imports inside a function that are there for a reason other than a cycle.
LAZY_IMPORTS = {
    ("tfcore.devices", "tfcore.devices.gpu"): "CuPy is imported only when a GPU is asked for",
}

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules():
    """{module name: path} for every module of the tfcore package."""
    modules = {}
    for path in sorted((ROOT / "tfcore").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _imports(name, path):
    """(imported module, inside a function?) for each import in module `name`: a name imported
    from a package counts as its submodule when it is one."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend((alias.name, inner) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parent = package.split(".")[:len(package.split(".")) - child.level + 1]
                    base = ".".join(parent + ([base] if base else []))
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    found.append((sub if sub in MODULES else base, inner))
            visit(child, inner)

    visit(tree, False)
    return found


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _level(module):
    parts = module.split(".")
    return LEVELS.get(parts[1], FACADE_LEVEL) if len(parts) > 1 else FACADE_LEVEL


def _layer(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LEVELS else "facade"


def _edges():
    """{module: set of tfcore modules it imports}."""
    edges = {}
    for name, imports in IMPORTS.items():
        targets = set()
        for target, _ in imports:
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target in MODULES and target != name:
                targets.add(target)
        edges[name] = targets
    return edges


def test_layers_import_only_downwards():
    wrong = sorted(f"{name} ({_layer(name)}) imports {target} ({_layer(target)})"
                   for name, targets in _edges().items() for target in targets
                   if _layer(name) != _layer(target) and _level(target) >= _level(name))
    assert wrong == []


def test_no_import_cycles():
    edges = _edges()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def connect(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    assert cycles == []


def test_no_imports_hidden_in_functions():
    hidden = sorted(f"{name} imports {target} inside a function"
                    for name, imports in IMPORTS.items() for target, inside in imports
                    if inside and target.startswith("tfcore") and (name, target) not in LAZY_IMPORTS)
    assert hidden == []


def test_tfcore_never_imports_the_course():
    assert sorted(name for name, imports in IMPORTS.items()
                  if any(t == "course" or t.startswith("course.") for t, _ in imports)) == []


def test_the_checks_see_a_violation(tmp_path):
    # An upward import hidden in a function of a framework module is seen as both.
    module = tmp_path / "graph.py"
    module.write_text("from . import dtypes\n\n\ndef f():\n    from tfcore.ops import array_ops\n")
    found = _imports("tfcore.framework.graph", module)
    assert found == [("tfcore.framework.dtypes", False), ("tfcore.ops.array_ops", True)]
    assert _level("tfcore.ops.array_ops") >= _level("tfcore.framework.graph")
    assert _layer("tfcore.nn") == "facade" and _level("tfcore") == FACADE_LEVEL


# --- sizes ---------------------------------------------------------------------------------------
def _source_files():
    return sorted(p for folder in ("tfcore", "course") for p in (ROOT / folder).rglob("*.py"))


def test_no_file_over_400_lines():
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in _source_files()
            if (n := p.read_text().count("\n")) > MAX_FILE_LINES]
    assert long == []


@pytest.mark.parametrize("folder", ["tfcore", "course"])
def test_no_function_over_60_lines(folder):
    long = []
    for path in _source_files():
        if path.relative_to(ROOT).parts[0] != folder:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {n} lines")
    assert long == []
