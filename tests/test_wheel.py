"""The built wheel: carries the model, its card, py.typed and completions, and works when installed.

Builds with `python -m build --wheel --no-isolation` (no network, no build env) when hatchling
is importable, installs the wheel with --no-deps into a fresh venv that sees this
interpreter's packages (torch is not fetched again), and runs the installed `fakecheck`
from a folder outside the checkout.  That works whether the tests run in a virtual environment
or not (see `make_venv`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import soundfile as sf
from conftest import speechlike

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

REQUIRED = [
    "fakecheck/__init__.py",
    "fakecheck/cli/__init__.py",
    "fakecheck/cli/scan.py",
    "fakecheck/model/checkpoint.py",
    "fakecheck/training/datasets/__init__.py",
    "fakecheck/py.typed",
    "fakecheck/models/fakecheck-default.pt",
    "fakecheck/models/MODEL_CARD.md",
]
SHARED = {  # path under <name>.data/data/ -> source in the checkout
    "share/bash-completion/completions/fakecheck": "completions/fakecheck.bash",
    "share/zsh/site-functions/_fakecheck": "completions/_fakecheck",
    "share/fish/vendor_completions.d/fakecheck.fish": "completions/fakecheck.fish",
}


def _run(cmd: list[str | Path], timeout: float = 120, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if importlib.util.find_spec("build") is None:
        pytest.skip("the 'build' package is not installed (pip install -e .[dev])")
    out = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT]
    if importlib.util.find_spec("hatchling") is not None:
        cmd.insert(4, "--no-isolation")
    proc = _run(cmd, timeout=300)
    if proc.returncode != 0 and "--no-isolation" not in cmd:
        pytest.skip(f"isolated wheel build failed (no network?): {proc.stderr.strip().splitlines()[-1:]}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wheels = list(out.glob("fakecheck-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contents(wheel):
    with zipfile.ZipFile(wheel) as z:
        infos = {i.filename: i for i in z.infolist()}
        names = set(infos)
        for name in REQUIRED:
            assert name in names, f"{name} missing from {wheel.name}"
        data = [n for n in names if ".data/data/" in n]
        assert {n.split(".data/data/", 1)[1] for n in data} == set(SHARED), data
        for name in data:
            src = ROOT / SHARED[name.split(".data/data/", 1)[1]]
            body = z.read(name).decode("utf-8")
            assert body.strip(), f"{name} is empty: run `python scripts/gen_completions.py`"
            assert body == src.read_text(encoding="utf-8")
        model = z.read("fakecheck/models/fakecheck-default.pt")
        assert hashlib.sha256(model).digest() == hashlib.sha256(
            (ROOT / "models" / "fakecheck-default.pt").read_bytes()).digest()
        # Readable by every user once installed, whatever the checkout's file mode.
        assert (infos["fakecheck/models/fakecheck-default.pt"].external_attr >> 16) & 0o444 == 0o444
        assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n or n.endswith(".pyc")]
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
        assert re.search(r"^fakecheck = fakecheck\.cli:main$", entry_points, re.M)


def make_venv(venv: Path) -> Path:
    """A fresh venv that sees the packages of the interpreter running the tests; returns its python.

    `--system-site-packages` exposes the *base* interpreter's site-packages only, so when the tests
    run inside a virtual environment, torch and the rest (installed there) would be missing.  That
    environment's site-packages are then added with a .pth file of plain paths: they come after the
    new venv's own site-packages (the wheel wins), and the .pth files inside them, such as the
    editable install of this checkout, are not run.
    """
    proc = _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv])
    assert proc.returncode == 0, proc.stderr
    py = venv / "bin" / "python"
    if sys.prefix != sys.base_prefix:  # running in a venv: expose its site-packages too
        own = _run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
        assert own.returncode == 0, own.stderr
        outer = [p for p in site.getsitepackages() if Path(p).is_relative_to(sys.prefix)]
        (Path(own.stdout.strip()) / "_outer_venv.pth").write_text("".join(f"{p}\n" for p in outer))
    return py


def test_installed_wheel_runs_outside_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    py, exe = make_venv(venv), venv / "bin" / "fakecheck"
    # The outer pip installs into the venv: no ensurepip (slow), no index (offline), no deps (torch is shared).
    # An editable fakecheck outside the venv is left alone ("outside environment").
    proc = _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index",
                 "--force-reinstall", "--disable-pip-version-check", "--no-input", wheel])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for rel in SHARED:
        assert (venv / rel).is_file(), f"{rel} not installed"

    work = tmp_path / "elsewhere"
    work.mkdir()
    sf.write(work / "clip.wav", speechlike(3.0), 16_000)  # speech: the installed speech detector must pass it
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update({"FAKECHECK_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "120", "PYTHONNOUSERSITE": "1"})

    where = _run([py, "-c", "import fakecheck, fakecheck.model.checkpoint as c; "
                            "print(fakecheck.__file__); print(c.bundled_model_path())"], cwd=work, env=env)
    assert where.returncode == 0, where.stderr
    site = (venv / "lib").resolve()
    for line in where.stdout.split():
        path = Path(line).resolve()
        assert path.is_relative_to(site), f"{path} is not from the venv (expected under {site})"
        assert not path.is_relative_to(ROOT)

    proc = _run([exe, "--version"], cwd=work, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("fakecheck ")

    proc = _run([exe, "info"], cwd=work, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^model\s+fakecheck-default\.pt$", proc.stdout, re.M), proc.stdout
    assert re.search(r"^sha256\s+[0-9a-f]{64}$", proc.stdout, re.M), proc.stdout

    proc = _run([exe, "scan", "clip.wav"], cwd=work, env=env)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines() if "\tclip.wav\t" in line]
    assert len(rows) == 1 and rows[0][0] in ("REAL", "FAKE", "PARTIAL"), proc.stdout
    assert (rows[0][0] in ("FAKE", "PARTIAL")) == (proc.returncode == 1)
