"""`fakecheck evaluate`: model mode (confidence intervals, thresholds, score files) and score-file mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike
from typer.testing import CliRunner

from fakecheck.cli.app import app
from fakecheck.evaluation import metrics

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def data(tmp_path) -> Path:
    root = tmp_path / "data"
    for label, offset in (("real", 0), ("fake", 100)):
        (root / label).mkdir(parents=True)
        for i in range(4):
            sf.write(root / label / f"{label}_{i}.wav", speechlike(2.0, seed=offset + i), 16_000)
    return root


# -- model mode -------------------------------------------------------------------------------------
def test_threshold_means_p_fake_and_intervals_are_reported(data, tiny_model_file, tmp_path):
    out, scores = tmp_path / "m.json", tmp_path / "scores.txt"
    result = run("evaluate", data, "--model", tiny_model_file, "--json", out, "--scores", scores,
                 "--bootstrap", "200")
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    from fakecheck.model.checkpoint import load

    ck = load(tiny_model_file)
    assert report["threshold"] == ck.threshold  # a P(fake), as in scan
    assert report["score_threshold"] == pytest.approx(float(ck.calibration.score_at(ck.threshold)))
    assert 0.0 < report["eer_threshold"] < 1.0  # the EER operating point, as a P(fake) too
    assert float(ck.calibration.p_fake(report["eer_score_threshold"])) == pytest.approx(report["eer_threshold"])
    ci = report["confidence_intervals"]
    assert ci["n_resamples"] == 200 and ci["seed"] == 0 and ci["level"] == 0.95
    assert ci["eer"][0] <= report["eer"] <= ci["eer"][1]
    assert ci["min_dcf"][0] <= report["min_dcf"] <= ci["min_dcf"][1]
    assert "95% CI" in result.stdout
    # --scores names trials by utterance ID (the file stem), as in scan
    trials = [line.split()[0] for line in scores.read_text().splitlines()]
    assert sorted(trials) == sorted([f"real_{i}" for i in range(4)] + [f"fake_{i}" for i in range(4)])


def test_bootstrap_can_be_turned_off(data, tiny_model_file, tmp_path):
    out = tmp_path / "m.json"
    result = run("evaluate", data, "--model", tiny_model_file, "--json", out, "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["confidence_intervals"] is None


# -- score-file mode --------------------------------------------------------------------------------
@pytest.fixture
def trials(tmp_path):
    """A score file in ASVspoof's sign (higher = bona fide) and an ASVspoof 2019-style key."""
    rng = np.random.default_rng(0)
    bona, spoof = rng.normal(2, 1, 300), rng.normal(0, 1, 200)
    ids = [f"LA_E_{i:07d}" for i in range(500)]
    score_file, key = tmp_path / "aasist_scores.txt", tmp_path / "ASVspoof2019.LA.cm.eval.trl.txt"
    score_file.write_text("".join(f"{t} {v:.6f}\n" for t, v in zip(ids, np.concatenate((bona, spoof)), strict=True)))
    key.write_text("".join(f"LA_{i % 40:04d} {t} - {'-' if i < 300 else f'A{7 + i % 3:02d}'} "
                           f"{'bonafide' if i < 300 else 'spoof'}\n" for i, t in enumerate(ids)))
    # our sign: higher = spoof
    return score_file, key, -bona, -spoof


def test_score_file_against_key_without_a_model(trials, tmp_path, monkeypatch):
    from fakecheck.analysis import detector as inference

    def no_model(*a, **k):
        raise AssertionError("no model may be loaded when scoring a score file")

    monkeypatch.setattr(inference.Detector, "load", no_model)
    score_file, key, bona, spoof = trials
    out = tmp_path / "r.json"
    result = run("evaluate", "--score-file", score_file, "--key", key, "--json", out, "--bootstrap", "100")
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["n_bonafide"] == 300 and report["n_spoof"] == 200
    assert report["eer"] == pytest.approx(metrics.compute_eer(bona, spoof)[0])
    assert report["min_dcf"] == pytest.approx(metrics.min_dcf(bona, spoof))
    assert set(report["per_system"]) == {"A07", "A08", "A09"}
    assert report["threshold"] is None and report["accuracy"] is None  # no calibrated model: no P(fake)
    assert report["n_missing"] == 0 and report["n_unlabelled"] == 0
    assert report["model"] is None and report["score_file"] == str(score_file)
    assert "eer" in result.stdout and "A07" in result.stdout


def test_score_file_trials_missing_from_either_side_are_counted(trials, tmp_path):
    score_file, key, *_ = trials
    lines = score_file.read_text().splitlines()
    partial = tmp_path / "partial.txt"
    partial.write_text("\n".join(lines[5:] + ["EXTRA_1 0.5", "EXTRA_2 0.1"]) + "\n")
    out = tmp_path / "r.json"
    result = run("evaluate", "--score-file", partial, "--key", key, "--json", out, "--bootstrap", "0")
    assert result.exit_code == 3, result.output  # key trials without a score: not everything was evaluated
    report = json.loads(out.read_text())
    assert report["n_missing"] == 5 and report["missing"][:2] == ["LA_E_0000000", "LA_E_0000001"]
    assert report["n_unlabelled"] == 2 and report["n_bonafide"] == 295
    assert "5 key trials have no score" in result.stderr and "2 scored trials are not in the key" in result.stderr


def test_score_file_usage_errors(trials, tmp_path, data):
    score_file, key, *_ = trials
    other = tmp_path / "other.txt"
    other.write_text("/abs/path/clip1.wav 0.1\n/abs/path/clip2.wav 0.3\n")
    cases = [
        (["--score-file", score_file], "--key"),
        (["--key", key], "--score-file"),
        ([data, "--score-file", score_file, "--key", key], "not both"),
        (["--score-file", other, "--key", key], "no trial of"),
        ([], "DATA"),
    ]
    for args, reason in cases:
        result = run("evaluate", *args)
        assert result.exit_code == 2, (args, result.output)
        assert reason in result.stderr, (args, result.stderr)
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1.0\na 2.0\n")
    result = run("evaluate", "--score-file", bad, "--key", key)
    assert result.exit_code == 2 and "twice" in result.stderr


def test_higher_is_spoof_flips_the_sign(trials, tmp_path):
    score_file, key, bona, spoof = trials
    ours = tmp_path / "ours.txt"
    ours.write_text("".join(f"{line.split()[0]} {-float(line.split()[1])}\n"
                            for line in score_file.read_text().splitlines()))
    out = tmp_path / "r.json"
    result = run("evaluate", "--score-file", ours, "--key", key, "--higher-is-spoof", "--json", out,
                 "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["eer"] == pytest.approx(metrics.compute_eer(bona, spoof)[0])


def test_llr_scores_give_act_dcf_and_cllr(trials, tmp_path):
    score_file, key, bona, spoof = trials
    out = tmp_path / "r.json"
    result = run("evaluate", "--score-file", score_file, "--key", key, "--llr", "--json", out, "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["cllr"] == pytest.approx(metrics.cllr(bona, spoof))
    assert report["act_dcf"] == pytest.approx(metrics.act_dcf(bona, spoof))
    plain = tmp_path / "p.json"
    run("evaluate", "--score-file", score_file, "--key", key, "--json", plain, "--bootstrap", "0")
    assert json.loads(plain.read_text())["cllr"] is None  # raw scores are not LLRs


def test_cli_bootstrap_default_is_the_documented_one():
    from fakecheck.cli import evaluate as evaluate_command

    assert evaluate_command.BOOTSTRAP_RESAMPLES == metrics.BOOTSTRAP_RESAMPLES == 1000 and metrics.BOOTSTRAP_SEED == 0


# -- issue 21: unscored trials, --score-all, per-system intervals, free-form systems, sign --------
@pytest.fixture
def data_with_short(data) -> Path:
    """The data set plus two clips with under 1 s of speech and one file that is not audio."""
    sf.write(data / "real" / "real_short.wav", speechlike(0.6, seed=7), 16_000)
    sf.write(data / "fake" / "fake_short.wav", speechlike(0.7, seed=8), 16_000)
    (data / "fake" / "fake_broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 20)
    return data


def test_every_unscored_trial_is_accounted_for_and_score_all_scores_them(data_with_short, tiny_model_file, tmp_path):
    out = tmp_path / "r.json"
    result = run("evaluate", data_with_short, "--model", tiny_model_file, "--json", out, "--bootstrap", "0")
    assert result.exit_code == 3, result.output
    report = json.loads(out.read_text())
    assert report["n_bonafide"] + report["n_spoof"] == 8 and report["n_failed"] == 3
    reasons = {Path(f["path"]).name: f for f in report["failed"]}
    assert set(reasons) == {"real_short.wav", "fake_short.wav", "fake_broken.wav"}
    assert reasons["real_short.wav"]["verdict"] == "INCONCLUSIVE"
    assert reasons["fake_broken.wav"]["verdict"] == "ERROR"
    assert sum(report["unscored_reasons"].values()) == 3
    line = next(x for x in result.stderr.splitlines() if "could not be scored" in x)
    assert line.startswith("3 of 11 files could not be scored: ")
    for reason, n in report["unscored_reasons"].items():
        assert f"{n} {reason}" in line
    assert "--score-all" in line
    # --score-all: the INCONCLUSIVE clips get scores; the broken file still cannot have one
    out_all = tmp_path / "all.json"
    result = run("evaluate", data_with_short, "--model", tiny_model_file, "--json", out_all, "--bootstrap", "0",
                 "--score-all")
    assert result.exit_code == 3, result.output
    every = json.loads(out_all.read_text())
    assert every["n_bonafide"] == 5 and every["n_spoof"] == 5 and every["n_scored_inconclusive"] == 2
    assert [Path(f["path"]).name for f in every["failed"]] == ["fake_broken.wav"]
    assert "1 of 11 files could not be scored" in result.stderr and "--score-all scores" not in result.stderr


def test_score_all_belongs_to_model_mode(trials):
    score_file, key, *_ = trials
    result = run("evaluate", "--score-file", score_file, "--key", key, "--score-all")
    assert result.exit_code == 2 and "--score-all" in result.stderr


def test_free_form_systems_in_a_key_get_rows_with_n_and_intervals(tmp_path):
    rng = np.random.default_rng(1)
    lines_s, lines_k = [], []
    for i in range(200):
        lines_s.append(f"b{i} {rng.normal(2, 1):.5f}")
        lines_k.append(f"b{i} bonafide -")
    for system, values in (("elevenlabs", rng.normal(0, 1, 120)), ("my-vits", [0.5, 1.0, 1.5, 2.0, 2.5, 3.0])):
        for i, v in enumerate(values):  # my-vits overlaps the bona fide scores: a wide interval on 6 trials
            lines_s.append(f"{system}{i} {v:.5f}")
            lines_k.append(f"{system}{i} spoof {system}")
    score_file, key, out = tmp_path / "s.txt", tmp_path / "key.txt", tmp_path / "r.json"
    score_file.write_text("\n".join(lines_s) + "\n")
    key.write_text("\n".join(lines_k) + "\n")
    result = run("evaluate", "--score-file", score_file, "--key", key, "--json", out, "--bootstrap", "200")
    assert result.exit_code == 0, result.output
    per = json.loads(out.read_text())["per_system"]
    assert set(per) == {"elevenlabs", "my-vits"}
    assert per["elevenlabs"]["n"] == 120 and not per["elevenlabs"]["few_trials"]
    assert per["my-vits"]["n"] == 6 and per["my-vits"]["few_trials"]
    for d in per.values():
        assert d["eer_ci"][0] <= d["eer"] <= d["eer_ci"][1]
    assert per["my-vits"]["eer_ci"][1] - per["my-vits"]["eer_ci"][0] > \
        per["elevenlabs"]["eer_ci"][1] - per["elevenlabs"]["eer_ci"][0]  # fewer trials, wider interval
    assert "my-vits *" in result.stdout and "elevenlabs *" not in result.stdout
    assert "* fewer than 30 spoof trials: that EER is not reliable" in result.stdout


def test_a_reversed_score_file_gets_a_sign_hint_and_the_json_says_which_sign(trials, tmp_path):
    score_file, key, *_ = trials
    plain, flipped = tmp_path / "plain.json", tmp_path / "flipped.json"
    right = run("evaluate", "--score-file", score_file, "--key", key, "--json", plain, "--bootstrap", "0")
    assert right.exit_code == 0 and "hint:" not in right.stderr
    wrong = run("evaluate", "--score-file", score_file, "--key", key, "--json", flipped, "--bootstrap", "0",
                "--higher-is-spoof")
    assert wrong.exit_code == 0, wrong.output
    hint = next(x for x in wrong.stderr.splitlines() if x.startswith("hint:"))
    assert "without --higher-is-spoof" in hint
    a, b = json.loads(plain.read_text()), json.loads(flipped.read_text())
    assert b["eer"] > 0.5 and b["auc"] < 0.5
    assert a["score_sign"].startswith("higher = bona fide") and b["score_sign"].startswith("higher = spoof")
