"""The dependency rule: training -> engine <- gui -> editor; the engine never imports Qt."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "maskgit_studio/engine": (
        "PySide6",
        "maskgit_studio.gui",
        "maskgit_studio.editor",
        "training",
        "qimage2ndarray",
    ),
    "maskgit_studio/editor": (
        "PySide6",
        "torch",
        "maskgit_studio.gui",
        "training",
        "qimage2ndarray",
    ),
    "maskgit_studio/gui": ("torch", "training"),
    "training": ("PySide6", "maskgit_studio.gui", "maskgit_studio.editor"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_dependency_rule():
    violations = []
    for folder, banned in FORBIDDEN.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in imported_modules(path):
                if any(name == b or name.startswith(b + ".") for b in banned):
                    violations.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not violations, "\n".join(violations)


def test_gui_reaches_engine_only_through_session():
    allowed = (
        "maskgit_studio.engine.session",
        "maskgit_studio.engine.results",
        "maskgit_studio.engine.config",
        "maskgit_studio.engine.model_store",
        "maskgit_studio.engine.images",
        "maskgit_studio.engine.checkpoint",
    )
    bad = []
    for path in sorted((ROOT / "maskgit_studio/gui").rglob("*.py")):
        for name in imported_modules(path):
            if (
                name.startswith("maskgit_studio.engine")
                and name not in allowed
                and name != "maskgit_studio.engine"
            ):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)
