"""The packages depend one way: core <- models <- inspector (runtime) <- training <- UI and CLI.

Every module's imports (also those inside functions) are parsed with ``ast``; an import of a
higher layer fails the test and names the file and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Layer numbers: a module may import its own layer and lower ones only.
CORE, MODELS, RUNTIME, TRAINING, TOP = range(5)
TOP_MODULES = ("inspector.ui", "inspector.commands", "inspector.cli", "inspector.__main__", "app", "pages")


def layer_of(module: str) -> int | None:
    """The layer of a dotted module name of ours, or ``None`` for third-party modules."""
    if any(module == top or module.startswith(top + ".") for top in TOP_MODULES):
        return TOP
    head = module.split(".")[0]
    return {"core": CORE, "models": MODELS, "inspector": RUNTIME, "training": TRAINING}.get(head)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every absolute or relative import in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            # `from inspector import ui` imports inspector.ui
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def upward_imports(root: Path = ROOT) -> list[str]:
    """Every import of a higher layer, as ``file:line imports module (layer a -> b)``."""
    names = ["core", "models", "inspector", "training"]
    problems = []
    for pkg in names:
        for path in sorted((root / pkg).rglob("*.py")):
            own = layer_of(module_name(path, root))
            for line, name in imported_modules(path, root):
                target = layer_of(name)
                if target is not None and own is not None and target > own:
                    problems.append(f"{path.relative_to(root)}:{line} imports {name} (layer {own} -> {target})")
    return problems


def test_no_module_imports_a_higher_layer() -> None:
    problems = upward_imports()
    assert not problems, "upward imports:\n" + "\n".join(problems)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    for pkg in ("core", "models", "inspector", "training"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "models" / "net.py").write_text("def f():\n    from inspector.errors import X\n")
    (tmp_path / "inspector" / "run.py").write_text("from training import loop\n")
    (tmp_path / "inspector" / "ok.py").write_text("import core.errors\nfrom models import net\n")
    (tmp_path / "core" / "base.py").write_text("from . import x\nfrom ..models import y\n")
    found = upward_imports(tmp_path)
    assert any(p.startswith("models/net.py:2 imports inspector.errors") for p in found)
    assert any(p.startswith("inspector/run.py:1 imports training") for p in found)
    assert any(p.startswith("core/base.py:2 imports models") for p in found)
    assert not any(p.startswith("inspector/ok.py") for p in found)


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("core.errors", CORE),
        ("models.ct_cnn", MODELS),
        ("inspector.pipeline", RUNTIME),
        ("inspector.ui.panels", TOP),
        ("inspector.commands.train", TOP),
        ("training.loop", TRAINING),
        ("numpy", None),
    ],
)
def test_layer_of(module: str, layer: int | None) -> None:
    assert layer_of(module) == layer
