"""Partial fakes: the splice maker's labels, the timeline stitching and the segment rule, with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from fakecheck.analysis import segments
from fakecheck.audio.constants import SAMPLE_RATE
from fakecheck.training import splice
from tests.conftest import tone

TOKEN = 640
TOKEN_S = TOKEN / SAMPLE_RATE


# -- the splice maker ----------------------------------------------------------------------
def test_hard_cut_labels_are_exactly_the_replaced_samples():
    host, piece = tone(4.0, freq=200.0), tone(1.0, freq=1000.0, amp=0.05)
    at = 32_000
    out = splice.replace(host, np.zeros(len(host), np.float32), piece, True, at, fade_s=0.0)
    assert out.fake[:at].max() == 0.0 and out.fake[at + len(piece):].max() == 0.0
    assert np.all(out.fake[at:at + len(piece)] == 1.0)
    # The piece replaced the host there: its 1000 Hz tone, not the host's 200 Hz one.
    seg = out.samples[at:at + len(piece)]
    assert np.allclose(seg / np.abs(seg).max(), piece / np.abs(piece).max(), atol=1e-5)
    labels = splice.token_labels(out.fake, TOKEN)
    assert labels.shape == (100,)
    assert np.array_equal(np.nonzero(labels > 0.5)[0], np.arange(at // TOKEN, (at + len(piece)) // TOKEN))


def test_piece_is_level_matched_to_the_host_around_the_seam():
    host, piece = tone(4.0, freq=200.0, amp=0.3), tone(1.0, freq=1000.0, amp=0.01)
    out = splice.replace(host, np.zeros(len(host), np.float32), piece, True, 16_000, fade_s=0.0)
    inserted = out.samples[16_000:32_000]
    assert splice.rms(inserted) == pytest.approx(splice.rms(host), rel=0.02)  # 30x quieter before


def test_crossfade_labels_ramp_with_the_audio_weights():
    host, piece = tone(4.0, freq=200.0), tone(1.0, freq=1000.0)
    fade = 0.02
    out = splice.replace(host, np.zeros(len(host), np.float32), piece, True, 8_000, fade_s=fade)
    n_fade = int(fade * SAMPLE_RATE)
    ramp = out.fake[8_000:8_000 + n_fade]
    assert np.all(np.diff(ramp) > 0) and 0 < ramp[0] < 0.05 and 0.95 < ramp[-1] < 1
    assert out.fake[8_000 + n_fade:8_000 + len(piece) - n_fade].min() == 1.0
    assert out.fake.sum() == pytest.approx(len(piece) - n_fade, rel=1e-3)  # two half-weighted ramps


def test_a_real_piece_in_a_fake_host_gives_real_tokens():
    host = tone(4.0)
    out = splice.replace(host, np.ones(len(host), np.float32), tone(0.5, freq=900.0), False, 0, fade_s=0.0)
    labels = splice.token_labels(out.fake, TOKEN)
    assert labels[: 8000 // TOKEN].max() == 0.0 and labels[8000 // TOKEN + 1:].min() == 1.0


@pytest.mark.parametrize("seed", range(20))
def test_random_splices_stay_inside_the_host_with_lengths_in_range(seed):
    rng = np.random.default_rng(seed)
    host = tone(4.0)
    out = splice.random_splice(host, False, tone(6.0, freq=700.0), True, rng)
    assert len(out.samples) == len(host)
    n_fake = float(out.fake.sum())
    lo, _ = splice.SEGMENT_S
    assert lo * SAMPLE_RATE * 0.9 <= n_fake <= 0.75 * len(host) + 1  # crossfades shave the edges


def test_replace_refuses_a_piece_that_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        splice.replace(tone(1.0), np.zeros(16_000, np.float32), tone(0.5), True, 12_000, 0.0)


# -- stitching windows onto one grid ---------------------------------------------------------
def test_stitch_averages_overlapping_windows_and_respects_offsets():
    a = segments.WindowTokens(0, np.full(100, 2.0, np.float32), np.ones(100, bool))
    b = segments.WindowTokens(50 * TOKEN, np.full(100, -2.0, np.float32), np.ones(100, bool))
    logits, covered, speech = segments.stitch([a, b], 160, TOKEN)
    assert np.all(logits[:50] == 2.0) and np.all(logits[50:100] == 0.0) and np.all(logits[100:150] == -2.0)
    assert covered[:150].all() and not covered[150:].any() and not speech[150:].any()


def test_stitch_places_a_window_that_starts_after_trimmed_silence():
    w = segments.WindowTokens(10 * TOKEN + 100, np.arange(5, dtype=np.float32), np.ones(5, bool))
    logits, covered, _ = segments.stitch([w], 20, TOKEN)
    assert np.nonzero(covered)[0].tolist() == [10, 11, 12, 13, 14]
    assert logits[10:15].tolist() == [0, 1, 2, 3, 4]


# -- reading segments from the timeline ---------------------------------------------------------
def timeline(n: int, fake: list[tuple[int, int]], high: float = 0.9, low: float = 0.1) -> np.ndarray:
    p = np.full(n, low)
    for a, b in fake:
        p[a:b] = high
    return p


def test_one_fake_stretch_is_found_with_its_bounds():
    p = timeline(400, [(100, 175)])  # 4.0-7.0 s
    found = segments.find_segments(p, np.ones(400, bool), TOKEN_S, 0.5)
    assert found == [(4.0, 7.0)]


def test_close_runs_merge_and_far_runs_stay_apart():
    speech = np.ones(500, bool)
    close = segments.find_segments(timeline(500, [(100, 130), (135, 160)]), speech, TOKEN_S, 0.5)
    assert close == [(4.0, 6.4)]  # a 0.2 s dip is below MERGE_GAP_S
    far = segments.find_segments(timeline(500, [(100, 130), (300, 330)]), speech, TOKEN_S, 0.5)
    assert far == [(4.0, 5.2), (12.0, 13.2)]


def test_short_runs_and_lone_spikes_are_not_segments():
    p = timeline(400, [(50, 52), (200, 210)])  # 80 ms spike, 0.4 s run
    assert segments.find_segments(p, np.ones(400, bool), TOKEN_S, 0.5) == []
    assert segments.MIN_SEGMENT_S > 0.4


def test_silence_is_never_part_of_a_segment():
    p = timeline(400, [(100, 200)])
    speech = np.ones(400, bool)
    speech[100:200] = False  # the high scores sit on silence
    assert segments.find_segments(p, speech, TOKEN_S, 0.5) == []


def test_threshold_is_the_same_p_fake_threshold():
    p = timeline(400, [(100, 200)], high=0.7)
    speech = np.ones(400, bool)
    assert segments.find_segments(p, speech, TOKEN_S, 0.6) == [(4.0, 8.0)]
    assert segments.find_segments(p, speech, TOKEN_S, 0.75) == []


def test_fake_fraction_counts_speech_tokens_only():
    p = timeline(400, [(0, 100)])
    speech = np.zeros(400, bool)
    speech[:200] = True
    assert segments.fake_fraction(p, speech, 0.5) == pytest.approx(0.5)
    assert segments.fake_fraction(p, np.zeros(400, bool), 0.5) == 0.0


def test_median_smoothing_keeps_edges_of_long_runs():
    x = timeline(50, [(10, 30)])
    sm = segments.median_smooth(x, 5)
    assert np.array_equal(sm, x)
    spike = timeline(50, [(20, 21)])
    assert segments.median_smooth(spike, 5).max() == pytest.approx(0.1)


def test_insert_keeps_the_host_around_the_piece_and_labels_it():
    host, piece = tone(6.0, freq=200.0), tone(2.0, freq=1000.0)
    out = splice.insert(host, piece, True, at=48_000, fade_s=0.0)
    assert len(out.samples) == len(host) + len(piece)
    assert np.array_equal(out.samples[:48_000], host[:48_000])
    assert np.array_equal(out.samples[48_000 + len(piece):], host[48_000:])
    assert out.fake.sum() == len(piece) and np.all(out.fake[48_000:48_000 + len(piece)] == 1)


def test_insert_with_crossfades_overlaps_the_seams():
    host, piece = tone(6.0), tone(2.0, freq=1000.0)
    fade = int(0.02 * SAMPLE_RATE)
    out = splice.insert(host, piece, True, at=48_000, fade_s=0.02)
    assert len(out.samples) == len(host) + len(piece) - 2 * fade
    assert out.fake.sum() == pytest.approx(len(piece) - fade, rel=1e-3)
    assert out.fake[:48_000 - fade].max() == 0.0


def test_the_mean_p_gate_drops_weak_runs():
    p = timeline(400, [(100, 200)], high=0.55)
    p[100:200:2] = 0.3  # alternate: the median is 0.55, but half the tokens are low
    speech = np.ones(400, bool)
    assert segments.find_segments(p, speech, TOKEN_S, 0.5, smooth=1, confidence=0.5) == []  # runs of 40 ms
    assert segments.find_segments(p, speech, TOKEN_S, 0.5, confidence=0.5) == []  # mean 0.425 < 0.5
    (a, b), = segments.find_segments(p, speech, TOKEN_S, 0.5, confidence=0.4)  # the median frays the edges
    assert abs(a - 4.0) <= 0.13 and abs(b - 8.0) <= 0.13


def test_gaps_of_7_tokens_merge_and_8_do_not():
    speech = np.ones(500, bool)
    assert round(segments.MERGE_GAP_S / TOKEN_S) == 8  # 0.3 s: "under 0.3 s" joins gaps of up to 7 tokens
    seven = segments.find_segments(timeline(500, [(100, 130), (137, 167)]), speech, TOKEN_S, 0.5, smooth=1)
    eight = segments.find_segments(timeline(500, [(100, 130), (138, 168)]), speech, TOKEN_S, 0.5, smooth=1)
    assert seven == [(4.0, 6.68)] and eight == [(4.0, 5.2), (5.52, 6.72)]


# -- the verdict, end to end with designed token scores ---------------------------------------------
@pytest.fixture
def designed(tiny_checkpoint, monkeypatch):
    """A Detector whose windows score -3 (clearly real) and whose tokens score +4 (clearly fake) inside
    8.0-11.0 s of the file and -3 elsewhere: the answer is known exactly."""
    from fakecheck.analysis.detector import Detector

    det = Detector(tiny_checkpoint, device="cpu", threads=1)
    starts: list[int] = []

    def fake_scores(windows):
        n = windows.shape[1] // TOKEN
        tok = np.full((len(windows), n), -3.0)
        for b in range(len(windows)):  # the windows in the order _score_batch was handed them
            centres = (starts.pop(0) + TOKEN * np.arange(n) + TOKEN // 2) / SAMPLE_RATE
            tok[b, (centres >= 8.0) & (centres < 11.0)] = 4.0
        return np.full(len(windows), -3.0), tok

    original = det._score_batch

    def score_batch(batch, states):
        starts.extend(w.start for _, w in batch)
        original(batch, states)

    monkeypatch.setattr(det, "score_windows_and_tokens", fake_scores)
    monkeypatch.setattr(det, "_score_batch", score_batch)
    return det


def test_a_confident_fake_stretch_in_a_real_clip_is_partial(designed):
    from tests.conftest import speechlike

    v = designed.analyse_waveform(speechlike(20.0), SAMPLE_RATE)
    assert v.p_fake is not None and v.p_fake < 0.5  # the clip as a whole reads real
    assert v.verdict == "PARTIAL" and len(v.fake_segments) == 1
    a, b = v.fake_segments[0]
    assert abs(a - 8.0) <= 0.12 and abs(b - 11.0) <= 0.12
    assert v.confidence in ("medium", "high") and 0.1 < v.fake_fraction < 0.2  # 3 s of about 20 s of speech


def test_partial_exits_1_like_fake(designed, tmp_path, monkeypatch):
    import soundfile as sf
    from typer.testing import CliRunner

    from fakecheck import cli
    from fakecheck.cli import scan as scan_command
    from tests.conftest import speechlike

    sf.write(tmp_path / "mixed.wav", speechlike(20.0), SAMPLE_RATE)
    monkeypatch.setattr(scan_command, "load_detector", lambda *a, **k: designed)
    result = CliRunner().invoke(cli.app, ["scan", str(tmp_path / "mixed.wav")])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("PARTIAL\t")
    assert "# partly synthetic: 3.0 s at 8.0-11.0 s looks synthetic" in result.stdout
