"""The dependency rule between the rooms: training -> engine <- gui -> editor, cli -> engine.

The engine never imports Qt; the editor imports neither Qt nor torch; the GUI reaches the engine
only through its face (``engine.session``) and a few torch-free modules. Relative imports are
resolved, and ``from package import module`` counts as importing that module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "maskgit_studio/engine": (
        "PySide6",
        "qimage2ndarray",
        "maskgit_studio.gui",
        "maskgit_studio.editor",
        "maskgit_studio.cli",
        "training",
    ),
    "maskgit_studio/editor": (
        "PySide6",
        "qimage2ndarray",
        "torch",
        "maskgit_studio.engine",
        "maskgit_studio.gui",
        "maskgit_studio.cli",
        "training",
    ),
    "maskgit_studio/gui": ("torch", "maskgit_studio.cli", "training"),
    "maskgit_studio/cli": ("PySide6", "qimage2ndarray", "training"),
    "training": ("PySide6", "maskgit_studio.gui", "maskgit_studio.editor", "maskgit_studio.cli"),
}

# The CLI opens the app (gui) from inside a function only; at module level it is headless.
FORBIDDEN_AT_MODULE_LEVEL = {"maskgit_studio/cli": ("maskgit_studio.gui",)}

GUI_MAY_USE = (
    "maskgit_studio.engine.session",
    "maskgit_studio.engine.results",
    "maskgit_studio.engine.config",
    "maskgit_studio.engine.model_store",
    "maskgit_studio.engine.images",
    "maskgit_studio.engine.checkpoint",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imported_modules(path: Path, module_level_only: bool = False) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    nodes = tree.body if module_level_only else ast.walk(tree)
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            for alias in node.names:  # `from package import module`
                if is_module(f"{module}.{alias.name}"):
                    names.add(f"{module}.{alias.name}")
    return names


def violations(rules: dict[str, tuple[str, ...]], module_level_only: bool = False) -> list[str]:
    found = []
    for folder, banned in rules.items():
        files = sorted((ROOT / folder).rglob("*.py"))
        assert files, f"no Python files under {folder}: update the rules after a move"
        for path in files:
            for name in imported_modules(path, module_level_only):
                if any(name == b or name.startswith(b + ".") for b in banned):
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_dependency_rule():
    found = violations(FORBIDDEN) + violations(FORBIDDEN_AT_MODULE_LEVEL, module_level_only=True)
    assert not found, "\n".join(found)


def test_gui_reaches_engine_only_through_session():
    bad = []
    for path in sorted((ROOT / "maskgit_studio/gui").rglob("*.py")):
        for name in imported_modules(path):
            if name.startswith("maskgit_studio.engine.") and name not in GUI_MAY_USE:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_rules_see_relative_imports():
    """The checker resolves ``from ..x import y`` (a rule that missed them would pass always)."""
    names = imported_modules(ROOT / "maskgit_studio/cli/commands.py")
    assert "maskgit_studio.engine.session" in names and "maskgit_studio.cli.strip" in names
    names = imported_modules(ROOT / "maskgit_studio/cli/__init__.py", module_level_only=True)
    assert "maskgit_studio.cli.parser" in names and "maskgit_studio.gui.app" not in names
