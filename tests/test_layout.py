"""The package's layout rules (docs/contributing.rst), read from its source."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "skvae"
FACES = {
    "__init__",
    "_estimator",
    "_imputer",
    "_outlier",
    "_pyod",
    "_onnx",
    "_synthesizer",
}
MODEL = {"_networks", "_likelihoods", "_objectives", "_inference", "_training"}


def imports(module, module_level_only=False):
    """The skvae modules that ``module`` imports (at any depth, or at module
    level only)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    nodes = tree.body if module_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "") == "skvae":
            found.update(f"_{alias.name}" for alias in node.names)
    return found


def all_modules():
    return sorted(path.stem for path in PACKAGE.glob("*.py"))


def test_no_module_of_the_core_imports_a_face():
    for module in set(all_modules()) - FACES:
        assert not imports(module) & FACES, module


def test_data_movement_knows_no_model():
    assert not imports("_data") & MODEL


def test_no_module_level_import_cycle():
    graph = {
        module: imports(module, module_level_only=True) for module in all_modules()
    }

    def visit(module, path):
        assert module not in path, " -> ".join([*path, module])
        for imported in graph.get(module, ()):
            visit(imported, [*path, module])

    for module in graph:
        visit(module, [])


def test_no_module_reaches_a_private_member_of_another_object():
    # self._x and cls._x only: the imputer and the detector use the
    # transformer's public API, as a user's own face would.
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                owner = node.value
                assert isinstance(owner, ast.Name) and owner.id in ("self", "cls"), (
                    f"{path.name}:{node.lineno}: {ast.unparse(node)}"
                )
