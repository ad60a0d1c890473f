"""Shell completion: committed scripts are Typer's own, and TAB / --help never import torch or librosa."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "scripts" / "gen_completions.py"
HEAVY = ("torch", "librosa", "soundfile", "matplotlib", "numpy")  # numpy: 100 ms of a --help

# Runs the real entry point as a program called "fakecheck" (the name decides the completion
# variable), then reports on stderr which heavy modules got imported along the way.
PROBE = """
import json, sys
sys.argv[0] = "fakecheck"
try:
    from fakecheck.cli import main
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in HEAVY if m in sys.modules)
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "heavy": heavy}) + "\\n")
"""


def _generator():
    spec = importlib.util.spec_from_file_location("gen_completions", GENERATOR)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run_cli(args: list[str], env: dict[str, str] | None = None) -> tuple[str, dict]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("_TYPER_COMPLETE", "_FAKECHECK_COMPLETE"))}
    full_env.update({"COLUMNS": "120", **(env or {})})
    proc = subprocess.run([sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}", *args], capture_output=True,
                          text=True, env=full_env, cwd=ROOT, timeout=60)
    probe = [line for line in proc.stderr.splitlines() if line.startswith("PROBE ")]
    assert probe, f"probe did not report; stderr:\n{proc.stderr}"
    return proc.stdout, json.loads(probe[-1][6:])


def test_committed_scripts_match_typer():
    expected = _generator().render()
    assert set(expected) == {"fakecheck.bash", "_fakecheck", "fakecheck.fish"}
    stale = [name for name, text in expected.items()
             if not (ROOT / "completions" / name).is_file()
             or (ROOT / "completions" / name).read_text(encoding="utf-8") != text]
    assert not stale, f"completions/{', '.join(stale)} out of date: run `python scripts/gen_completions.py`"
    for text in expected.values():
        assert "_FAKECHECK_COMPLETE=complete_" in text and text.count("fakecheck") >= 2


@pytest.mark.parametrize("name,shell", [("fakecheck.bash", "bash"), ("_fakecheck", "zsh"), ("fakecheck.fish", "fish")])
def test_committed_scripts_equal_show_completion(name, shell):
    """The files are what `fakecheck --show-completion SHELL` prints (shell given, not detected)."""
    out, probe = _run_cli(["--show-completion", shell], env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert probe["code"] in (0, None)
    assert out == (ROOT / "completions" / name).read_text(encoding="utf-8"), \
        "run `python scripts/gen_completions.py`"


def test_zsh_script_is_autoloadable():
    assert (ROOT / "completions" / "_fakecheck").read_text(encoding="utf-8").startswith("#compdef fakecheck\n")


def test_wheel_installs_scripts_where_shells_look():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert cfg["project"]["scripts"] == {"fakecheck": "fakecheck.cli:main"}
    shared = cfg["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared == {
        "completions/fakecheck.bash": "share/bash-completion/completions/fakecheck",  # bash-completion lazy loading
        "completions/_fakecheck": "share/zsh/site-functions/_fakecheck",  # zsh fpath, #compdef
        "completions/fakecheck.fish": "share/fish/vendor_completions.d/fakecheck.fish",  # fish vendor dir
    }
    assert "completions" in cfg["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def test_help_is_light_and_offers_install_completion():
    out, probe = _run_cli(["--help"])
    assert probe["code"] in (0, None)
    assert probe["heavy"] == [], f"--help imported {probe['heavy']}"
    assert "--install-completion" in out and "--show-completion" in out
    for command in ("scan", "train", "evaluate", "explain", "report", "info"):
        assert command in out


@pytest.mark.parametrize("words,cword,expected", [
    ("fakecheck sc", 1, {"scan"}),
    ("fakecheck ", 1, {"scan", "train", "evaluate", "explain", "report", "info"}),
    ("fakecheck scan --js", 2, {"--json", "--jsonl"}),
    ("fakecheck explain --mo", 2, {"--mode", "--model"}),
])
def test_completion_request_is_light(words, cword, expected):
    out, probe = _run_cli([], env={"_FAKECHECK_COMPLETE": "complete_bash", "COMP_WORDS": words,
                                   "COMP_CWORD": str(cword)})
    assert probe["code"] in (0, None)
    assert probe["heavy"] == [], f"a completion request imported {probe['heavy']}"
    assert set(out.split()) == expected


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_bash_script_completes_through_the_program(tmp_path):
    """Source the committed bash script and press TAB (call its function) against a `fakecheck` on PATH."""
    shim = tmp_path / "bin" / "fakecheck"
    shim.parent.mkdir()
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import sys; sys.argv[0] = \"fakecheck\"; "
                    f"from fakecheck.cli import main; main()' \"$@\"\n")
    shim.chmod(0o755)
    script = ROOT / "completions" / "fakecheck.bash"
    cmd = f'source "{script}"; COMP_WORDS=(fakecheck scan --qu); COMP_CWORD=2; ' \
          '_fakecheck_completion fakecheck; printf "%s\\n" "${COMPREPLY[@]}"'
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", cmd], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["--quiet"]
