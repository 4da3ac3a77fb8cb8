"""core/ never imports channels/, speech/, portal/ or admin/: the kernel stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("hotline.channels", "hotline.speech", "hotline.portal", "hotline.admin")


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_core_imports_no_outer_layer() -> None:
    offenders = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        for module in imported_modules(path):
            if module.startswith(FORBIDDEN) or module.split(".")[0] in (
                "channels",
                "speech",
                "portal",
                "admin",
            ):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_the_boundary_check_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from hotline.portal import home\nimport hotline.channels.email\n")
    assert {"hotline.portal", "hotline.channels.email"} <= imported_modules(bad)
