"""The small frictions of issue 26, item 6: global options after the subcommand, the int8 caveat, one file not
"1 files", the evaluate hint that names only what is worse than chance, and capital argument names in usage
lines.  (explain's --png line is checked in tests/test_explain.py.)"""

from __future__ import annotations

import subprocess
import sys

import pytest
import soundfile as sf
from conftest import speechlike
from typer.testing import CliRunner

from fakecheck.cli import app
from fakecheck.cli.app import hoist_global_options
from fakecheck.cli.common import INT8_CAVEAT
from fakecheck.evaluation.trials import sign_hint
from fakecheck.evidence.render import summary_line

COMMANDS = {"scan", "train", "evaluate", "explain", "report", "info"}


@pytest.mark.parametrize("args, expected", [
    (["scan", "a.wav", "--precision", "fp32"], ["--precision", "fp32", "scan", "a.wav"]),
    (["scan", "--threads=1", "a.wav", "--debug"], ["--threads=1", "--debug", "scan", "a.wav"]),
    (["--debug", "explain", "f.wav", "--threads", "2", "--json", "-"],
     ["--debug", "--threads", "2", "explain", "f.wav", "--json", "-"]),
    (["--precision", "scan", "scan", "x"], ["--precision", "scan", "scan", "x"]),  # a value is not the command
    (["scan", "--", "--debug"], ["scan", "--", "--debug"]),  # after --, a file named --debug
    (["--help"], ["--help"]),
])
def test_global_options_move_before_the_subcommand(args, expected):
    assert hoist_global_options(args, COMMANDS) == expected


def test_a_global_option_after_the_subcommand_works_end_to_end(tmp_path, tiny_model_file):
    clip = tmp_path / "clip.wav"
    sf.write(clip, speechlike(3.0), 16_000)
    r = subprocess.run([sys.executable, "-m", "fakecheck", "scan", str(clip), "--model", str(tiny_model_file),
                        "--precision", "fp32", "--threads", "1"], capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 1), r.stderr
    assert "precision: fp32" in r.stderr and "No such option" not in r.stderr


def test_int8_says_it_failed_the_accuracy_rule(tmp_path, tiny_model_file):
    clip = tmp_path / "clip.wav"
    sf.write(clip, speechlike(3.0), 16_000)
    r = CliRunner().invoke(app, ["--precision", "int8", "scan", str(clip), "--model", str(tiny_model_file)])
    assert r.exit_code in (0, 1), r.output
    assert INT8_CAVEAT in r.stderr
    r = CliRunner().invoke(app, ["--precision", "fp32", "scan", str(clip), "--model", str(tiny_model_file)])
    assert INT8_CAVEAT not in r.stderr


def test_one_file_is_one_file():
    assert summary_line({"REAL": 1}, 1.0, 4.0, 0).startswith("1 file: ")
    assert summary_line({"REAL": 1, "FAKE": 1}, 1.0, 4.0, 0).startswith("2 files: ")


def test_the_sign_hint_names_only_what_is_worse_than_chance():
    hint = sign_hint(0.422, 0.44, score_file=False, higher_is_spoof=True)
    assert "AUC 0.44 is worse than chance" in hint and "EER" not in hint
    both = sign_hint(0.62, 0.35, score_file=True, higher_is_spoof=False)
    assert "EER 62.0% and AUC 0.35 are worse than chance" in both
    assert sign_hint(0.3, 0.8, score_file=False, higher_is_spoof=True) == ""


def test_usage_lines_name_the_arguments_in_capitals():
    r = CliRunner().invoke(app, ["scan", "--help"])
    assert "PATHS" in r.output.splitlines()[0] and "{paths}" not in r.output
