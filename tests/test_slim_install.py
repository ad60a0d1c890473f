"""The user install stays slim (issue 19): nothing under fakecheck/ needs librosa, SciPy or scikit-learn."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV_ONLY = ("librosa", "scipy", "sklearn", "numba")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_the_package_imports_no_dev_only_library():
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & set(DEV_ONLY))
                 for p in (ROOT / "fakecheck").rglob("*.py")}
    assert not {k: v for k, v in offenders.items() if v}


def test_runtime_dependencies_leave_dev_tools_to_the_dev_extra():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = " ".join(project["dependencies"]).lower()
    for name in ("librosa", "scipy", "scikit-learn"):
        assert name not in runtime
    assert any(d.startswith("librosa") for d in project["optional-dependencies"]["dev"])
    assert any(d.startswith("ray") for d in project["optional-dependencies"]["ray"])


def test_fft_convolve_is_the_full_linear_convolution():
    from fakecheck.training.augment import fft_convolve

    rng = np.random.default_rng(0)
    for n, m in ((1, 1), (5, 3), (100, 37), (64, 64), (1000, 1)):
        x, h = rng.standard_normal(n), rng.standard_normal(m)
        assert np.allclose(fft_convolve(x, h), np.convolve(x, h), atol=1e-9)
