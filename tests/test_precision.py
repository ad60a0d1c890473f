"""Scoring precision (issue 19): fp32, bf16 and int8 paths for any checkpoint; `auto` and its rule."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike
from typer.testing import CliRunner

from fakecheck.analysis.detector import Detector
from fakecheck.cli.app import Precision, app
from fakecheck.model import precision

PATHS = ("fp32", "bf16", "int8")
AMX = frozenset({"fpu", "avx512f", "amx_bf16", "amx_int8", "avx512_vnni"})
AVX2_ONLY = frozenset({"fpu", "avx2", "fma"})


def tiny(encoder_blocks: int):
    """A small random model on the real front end: frozen (0) or fine-tuning Whisper's top blocks (2)."""
    import torch

    from fakecheck.model.checkpoint import Checkpoint
    from fakecheck.model.transformer import SpoofTransformer
    from fakecheck.training.train import configs_for

    torch.manual_seed(0)
    fcfg, mcfg = configs_for(encoder_blocks, d_model=32, n_heads=2, n_layers=2, d_ff=64)
    model = SpoofTransformer(mcfg)
    if encoder_blocks:
        from fakecheck.model.whisper import load_encoder

        model.load_whisper_top(load_encoder())
    return Checkpoint(model, fcfg)


def test_cli_choices_are_the_library_s():
    assert tuple(p.value for p in Precision) == precision.PRECISIONS


def test_auto_takes_bf16_only_where_it_is_native():
    import torch

    cpu = torch.device("cpu")
    assert precision.resolve("auto", cpu, AMX) == "bf16"
    assert precision.resolve(None, cpu, AMX) == "bf16"
    assert precision.resolve("auto", cpu, AVX2_ONLY) == "fp32"  # emulated bf16 is slower than fp32
    assert precision.resolve("bf16", cpu, AVX2_ONLY) == "bf16"  # asked for by name: the user's call
    assert precision.resolve("fp32", cpu, AMX) == "fp32"
    with pytest.raises(ValueError, match="unknown precision"):
        precision.resolve("fp16", cpu, AMX)


def test_auto_only_chooses_paths_that_passed_the_accuracy_rule():
    assert set(precision.AUTO_CANDIDATES) <= {"bf16", "int8"}
    assert precision.passes_accuracy_rule(0.003, 10, 1000)
    assert not precision.passes_accuracy_rule(0.0031, 0, 1000)  # EER moved more than 0.3 points
    assert not precision.passes_accuracy_rule(-0.0031, 0, 1000)
    assert not precision.passes_accuracy_rule(0.0, 11, 1000)  # more than 1% of verdicts flipped


def test_accelerator_devices_run_fp32():
    import torch

    assert precision.resolve("auto", torch.device("cuda"), AMX) == "fp32"
    with pytest.raises(ValueError, match="CPU path"):
        precision.resolve("int8", torch.device("cuda"), AMX)


@pytest.mark.parametrize("encoder_blocks", [0, 2])
def test_every_path_scores_close_to_fp32_and_repeats_itself(encoder_blocks):
    ck = tiny(encoder_blocks)
    x = np.stack([speechlike(4.0, seed=s) for s in range(3)])
    ref = None
    for path in PATHS:
        det = Detector(ck, device="cpu", threads=1, precision=path)
        assert det.precision == path
        scores, tokens = det.score_windows_and_tokens(x)
        again, tokens_again = det.score_windows_and_tokens(x)
        assert np.array_equal(scores, again) and np.array_equal(tokens, tokens_again), path  # bit-identical
        assert scores.shape == (3,) and tokens.shape == (3, 100) and np.isfinite(tokens).all()
        if ref is None:
            ref = scores
        else:
            # A random tiny model's logits are small; a converted path moves them a little, never much.
            assert np.abs(scores - ref).max() < 0.1, (path, scores, ref)
    # The checkpoint the detector holds stays fp32: explanations and `info` read it.
    import torch

    assert all(p.dtype == torch.float32 for p in ck.model.parameters())


def test_scan_records_the_path_in_json_and_on_stderr(tmp_path, tiny_model_file):
    sf.write(tmp_path / "a.wav", speechlike(3.0, seed=1), 16_000)
    for path in PATHS:
        out = tmp_path / f"{path}.json"
        result = CliRunner().invoke(app, ["--precision", path, "scan", str(tmp_path / "a.wav"), "--model",
                                          str(tiny_model_file), "--json", str(out)])
        assert result.exit_code in (0, 1), result.output
        assert json.loads(out.read_text())["precision"] == path
        assert f"precision: {path}\n" in result.output  # CliRunner mixes stderr into output
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "a.wav"), "--model", str(tiny_model_file)])
    import torch

    assert f"precision: {precision.resolve('auto', torch.device('cpu'))} (auto)" in result.output


def test_unknown_precision_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(app, ["--precision", "fp16", "scan", str(tmp_path)])
    assert result.exit_code == 2
