"""What a clean install needs: every imported package declared in pyproject.toml, the training
commands installed, the runtime free of training imports, the public names at the top level."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import interorder_rt as ir

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

REPO = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"interorder_rt", "training", "benchmarks"}  # benchmarks: its tools import its suites
# Import names whose distribution is called otherwise.
DISTRIBUTION = {"cv2": "opencv-python-headless", "PIL": "pillow", "pytest_benchmark": "pytest-benchmark"}
# Imported only to hand back an object of the caller's own kind (a CuPy frame in, a CuPy image out):
# present whenever the import runs, so never a dependency.
CALLER_SUPPLIED = {"cupy"}


def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def _names(requirements: list[str]) -> set[str]:
    return {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower().replace("_", "-") for r in requirements}


def _is_optional(node: ast.AST, parents: dict) -> bool:
    """Inside ``try: ... except ImportError`` (or ModuleNotFoundError): an optional import by construction."""
    while node in parents:
        node, child = parents[node], node
        if isinstance(node, ast.Try) and child in node.body:
            caught = [ast.unparse(h.type) for h in node.handlers if h.type is not None]
            if any("ImportError" in c or "ModuleNotFoundError" in c for c in caught):
                return True
    return False


def _third_party_imports(*paths: Path) -> dict[str, str]:
    """Top-level module -> first file importing it, for the non-optional imports of ``paths``."""
    found: dict[str, str] = {}
    for path in paths:
        tree = ast.parse(path.read_text(), filename=str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in (m.split(".")[0] for m in modules):
                local = (path.parent / f"{module}.py").exists()
                if (module in sys.stdlib_module_names or module in FIRST_PARTY or module in CALLER_SUPPLIED or local
                        or _is_optional(node, parents)):
                    continue
                found.setdefault(module, str(path.relative_to(REPO)))
    return found


def _undeclared(imports: dict[str, str], declared: set[str]) -> list[str]:
    return sorted(f"{module} ({where})" for module, where in imports.items()
                  if DISTRIBUTION.get(module, module).lower().replace("_", "-") not in declared)


def test_the_runtime_and_training_import_only_declared_dependencies():
    project = _project()["project"]
    declared = _names(project["dependencies"]) | _names(sum(project.get("optional-dependencies", {}).values(), []))
    runtime = _names(project["dependencies"])
    for folder, allowed in (("interorder_rt", runtime), ("training", runtime), ("tests", declared),
                            ("benchmarks", declared)):
        assert _undeclared(_third_party_imports(*sorted((REPO / folder).rglob("*.py"))), allowed) == [], folder
    build = _names(_project()["build-system"]["requires"])
    assert _undeclared(_third_party_imports(REPO / "setup.py"), build) == []


def test_the_training_commands_are_installed_with_the_package():
    project = _project()
    scripts = project["project"]["scripts"]
    assert scripts["interorder-train-ornet"] == "training.ornet:main"
    assert scripts["interorder-train-mnet"] == "training.mnet.run:main"
    assert "training*" in project["tool"]["setuptools"]["packages"]["find"]["include"]
    from training.mnet.run import main as mnet_main
    from training.ornet import main as ornet_main

    assert callable(ornet_main) and callable(mnet_main)


def test_the_runtime_never_imports_training():
    offenders = []
    for path in (REPO / "interorder_rt").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] == "training"]
    assert offenders == []


def test_keypoint_conversion_and_annotation_files_are_top_level(tmp_path):
    coco = np.zeros((17, 3))
    coco[5], coco[6] = (10, 20, 2), (30, 20, 2)  # the shoulders; everything else unlabelled (v = 0)
    keypoints = ir.coco17_to_coco18(coco)
    assert keypoints.shape == (18, 2) and np.allclose(keypoints[1], (20, 20))  # the neck
    masks = np.zeros((1, 8, 8), bool)
    masks[0, 2:6, 2:6] = True
    ir.save_annotation(tmp_path / "a.json", ir.ImageAnnotation(masks, ["person"], [keypoints], (0,)))
    back = ir.load_annotation(tmp_path / "a.json")
    assert back.person == (0,) and np.array_equal(back.masks, masks)
    for name in ir.__all__:
        assert getattr(ir, name) is not None, name
