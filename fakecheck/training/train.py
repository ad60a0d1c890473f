"""Training loop: balanced sampling, random crops, augmentation of both classes alike,
AdamW with warm-up and cosine decay, validation EER every epoch, early stopping,
atomic best checkpoints, --resume, deterministic seeds, optional DistributedDataParallel.

No printing: progress goes to a `hook(event: dict)` supplied by the caller, and a
JSON-lines metrics log is written beside the output checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from fakecheck import audio
from fakecheck.analysis.detector import Detector, choose_device
from fakecheck.evaluation import metrics
from fakecheck.model import calibration, precision, whisper
from fakecheck.model.checkpoint import Checkpoint, ModelLoadError, atomic_save, read_data, remove_stale_temps
from fakecheck.model.checkpoint import save as save_checkpoint
from fakecheck.model.features import FeatureConfig, extract_views
from fakecheck.model.transformer import ModelConfig, SpoofTransformer
from fakecheck.training import splice
from fakecheck.training.augment import AugmentConfig, augment, random_crop
from fakecheck.training.datasets.rows import Row
from fakecheck.training.splits import (  # noqa: F401  (re-exported: fakecheck.train names them)
    MIN_VAL_PER_CLASS,
    SPLIT_BY_SOURCE,
    TrainingError,
    auto_split,
    drop_held_out,
    group_split,
    stratified_split,
)

Hook = Callable[[dict[str, Any]], None]
DEFAULT_FEATURES = FeatureConfig()


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3  # peak learning rate after warm-up
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    patience: int = 6  # epochs without a better validation EER before stopping
    seed: int = 0
    clips_per_epoch: int = 0  # 0 = as many draws as training clips
    num_workers: int = 1  # augmentation processes beside the training loop
    splice_prob: float = 0.3  # share of windows made into synthetic splices for the token head (fakecheck.splice)
    token_weight: float = 1.0  # weight of the per-token loss beside the clip loss
    val_fraction: float = 0.2  # of rows held out by source when no --val is given
    encoder_lr: float = 3e-5  # peak learning rate of the fine-tuned Whisper blocks (lower than the head's)
    matched_bonafide_share: float = 0.5  # bona fide draws matched to the fakes of their own source
    val_windows: int = 0  # >0: choose epochs on the mean of this many spread windows per clip (quick); 0: as scan
    save_every: int = 100  # steps between training-state saves inside an epoch (resume after a kill)
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)  # None: no augmentation

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # nested AugmentConfig (or None) included


# -- data ------------------------------------------------------------------------------
DROP_SYSTEM_IN_VAL = "spoof clips of a system held out for validation"
DROP_EXTRA_HELD_OUT = "--extra clips of validation's sources, files or speakers"
DROP_TOO_SHORT = "under 0.5 s after trimming silence"
DROP_UNDECODABLE = "could not be decoded"
_TOO_SHORT = "shorter than 0.5 s after trimming silence"


def drop_reason(error: str) -> str:
    """The reason of one load_clips error line, for the counts."""
    return DROP_TOO_SHORT if error.endswith(_TOO_SHORT) else DROP_UNDECODABLE


def load_clips(rows: Sequence[Row], hook: Hook | None = None) -> tuple[list[np.ndarray], list[str]]:
    """Decode every clip once (trimmed of silence at both ends); returns clips and per-row errors."""
    clips, errors = [], []
    for k, r in enumerate(rows):
        try:
            x = audio.trim_silence(audio.load(r.path))
            if len(x) < audio.MIN_SAMPLES:
                raise audio.AudioLoadError(_TOO_SHORT)
            clips.append(x)
        except audio.AudioLoadError as exc:
            clips.append(np.zeros(0, dtype=np.float32))
            errors.append(f"{r.path}: {exc}")
        if hook and (k % 200 == 0 or k == len(rows) - 1):
            hook({"event": "decode", "done": k + 1, "total": len(rows)})
    return clips, errors


class CropDataset(torch.utils.data.Dataset):
    """Item (clip index, seed) -> (augmented random window, clip label, per-token labels).

    With probability `splice_prob` the window is a synthetic splice (fakecheck.splice): a piece of
    another clip of the kind drawn by splice.draw_kind replaces part of it, and the token labels
    follow the piece.  Otherwise every token carries the clip's label.
    """

    def __init__(self, clips: list[np.ndarray], labels: np.ndarray, aug: AugmentConfig | None,
                 splice_prob: float = 0.0, token_samples: int = DEFAULT_FEATURES.hop_samples):
        self.clips, self.labels, self.aug = clips, labels, aug
        self.splice_prob, self.token_samples = splice_prob, token_samples
        self.by_label = {c: np.nonzero(labels == c)[0] for c in (0, 1)}

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, item: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx, seed = item
        rng = np.random.default_rng(seed)
        x = random_crop(self.clips[idx], rng)
        fake = np.full(len(x), float(self.labels[idx]), dtype=np.float32)
        aug = self.aug
        if self.splice_prob and rng.random() < self.splice_prob:
            x, fake = self._splice(idx, x, rng)
            # Silence padding shifts the audio against its labels; every other augmentation keeps positions.
            aug = replace(aug, p_silence=0.0) if aug is not None else None
        if aug is not None:
            x = augment(x, rng, aug)
        tokens = splice.token_labels(fake, self.token_samples)
        clip_label = float(tokens.max() >= 0.5)  # PartialSpoof's rule: any fake stretch makes the clip fake
        return (torch.from_numpy(np.ascontiguousarray(x)), torch.tensor(clip_label),
                torch.from_numpy(tokens.astype(np.float32)))

    def _splice(self, idx: int, host: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The drawn clip (drawn with the sampling weights) is the host; the piece comes from another clip."""
        host_fake = bool(self.labels[idx])
        _, piece_fake = splice.kind_labels(splice.draw_kind_for(host_fake, rng))
        pieces = self.by_label[int(piece_fake)]
        others = pieces[pieces != idx]
        if not len(others):
            return host, np.full(len(host), float(host_fake), dtype=np.float32)
        sp = splice.random_splice(host, host_fake, self.clips[int(rng.choice(others))], piece_fake, rng)
        return sp.samples, sp.fake


def sampling_weights(labels: np.ndarray, systems: Sequence[str], sources: Sequence[str] | None = None,
                     matched_share: float = 0.0) -> np.ndarray:
    """Draw probabilities: each class half the time; within a class, a system with n clips
    weighs sqrt(n), so a few large systems (or generated sets) cannot drown the many small ones.

    With `sources` and `matched_share` > 0, that share of the bona fide draws goes to the real
    recordings of sources that also hold fakes (a demo page's ground truth: the studio voices its
    fakes imitate), each such source in proportion to its fakes' draws.  Otherwise a studio voice
    is seen mostly as a fake, and "studio voice" becomes a definition of fake."""
    sys_count: dict[tuple[int, str], int] = {}
    for lab, s in zip(labels.tolist(), systems, strict=True):
        sys_count[(lab, s)] = sys_count.get((lab, s), 0) + 1
    w = np.array([1 / math.sqrt(sys_count[(lab, s)]) for lab, s in zip(labels.tolist(), systems, strict=True)])
    for c in (0, 1):
        w[labels == c] *= 0.5 / w[labels == c].sum()
    if sources is not None and matched_share > 0:
        w = _match_bonafide_to_fakes(w, labels, systems, np.asarray(sources), matched_share)
    return w / w.sum()


def _match_bonafide_to_fakes(w: np.ndarray, labels: np.ndarray, systems: Sequence[str], sources: np.ndarray,
                             share: float) -> np.ndarray:
    """Move `share` of the bona fide mass onto sources with both classes, in proportion to their spoof mass."""
    bona, spoof = labels == 0, labels == 1
    both = sorted(set(sources[bona].tolist()) & set(sources[spoof].tolist()))
    if not both:
        return w
    matched = np.zeros_like(w)
    system_of = np.asarray(systems)
    for src in both:
        here = bona & (sources == src)
        within = np.array([1 / math.sqrt(int(np.sum(here & (system_of == system_of[i]))))
                           for i in np.nonzero(here)[0]])  # sqrt rule among the source's corpora
        matched[here] = w[spoof & (sources == src)].sum() * within / within.sum()
    matched *= 0.5 / matched.sum()
    out = w.copy()
    out[bona] = (1 - share) * w[bona] + share * matched[bona]
    return out


def epoch_draws(weights: np.ndarray, n: int, seed: int, epoch: int) -> list[tuple[int, int]]:
    """`n` draws with replacement from `weights`, each with its own augmentation seed."""
    rng = np.random.default_rng([seed, epoch])
    idx = rng.choice(len(weights), size=n, p=weights)
    item_seeds = rng.integers(0, 2**63 - 1, size=n)
    return [(int(i), int(s)) for i, s in zip(idx, item_seeds, strict=True)]


# -- schedule and evaluation -------------------------------------------------------------
def lr_at(step: int, total: int, warmup: int, peak: float) -> float:
    """Linear warm-up to `peak`, then cosine decay to 5% of it."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def score_clips(model: SpoofTransformer, fcfg: FeatureConfig, clips: Sequence[np.ndarray]) -> np.ndarray:
    """Clip scores exactly as scan computes them (sliding windows, mean over speech windows)."""
    was_training = model.training
    det = Detector(Checkpoint(model, fcfg), device=str(next(model.parameters()).device),
                   threads=torch.get_num_threads())
    scores = np.array([v.score if v.score is not None else np.nan for v in det.analyse_waveforms(clips)])
    model.train(was_training)
    return scores


def spread_windows(clip: np.ndarray, n: int, length: int = audio.WINDOW_SAMPLES) -> list[np.ndarray]:
    """Up to `n` windows spread evenly over the clip (one padded window when it is shorter)."""
    if len(clip) <= length:
        return [audio.fit_window(clip, length)]
    starts = np.linspace(0, len(clip) - length, num=min(n, 1 + (len(clip) - length) // (length // 2))).astype(int)
    return [clip[s:s + length] for s in starts]


def window_mean_scores(model: SpoofTransformer, fcfg: FeatureConfig, clips: Sequence[np.ndarray], n_windows: int,
                       dtype: torch.dtype = torch.float32, batch: int = 32) -> np.ndarray:
    """Quick validation scores for choosing the epoch: the mean logit of up to `n_windows` spread windows
    per clip, with no speech detection.  scan-path scores (score_clips) cost several times more, which
    on 2 CPU cores is minutes per epoch; benchmarks/validation.py measures the chosen model the scan way."""
    was_training = model.training
    det = Detector(Checkpoint(model, fcfg), device=str(next(model.parameters()).device),
                   threads=torch.get_num_threads())
    per_clip = [spread_windows(c, n_windows) for c in clips]
    owner = np.repeat(np.arange(len(clips)), [len(w) for w in per_clip])
    windows = [w for ws in per_clip for w in ws]
    with precision.autocast(det.device, dtype):
        logits = np.concatenate([det.score_windows(np.stack(windows[i:i + batch]))
                                 for i in range(0, len(windows), batch)])
    model.train(was_training)
    return np.bincount(owner, weights=logits, minlength=len(clips)) / np.bincount(owner, minlength=len(clips))


def fit_token_calibration(ckpt: Checkpoint, clips: Sequence[np.ndarray], labels: np.ndarray
                          ) -> calibration.Calibration | None:
    """Calibrate the token head on the first window of every validation clip, each token labelled as
    its clip (validation has no splices: fakecheck train calibrates tokens on whole clips)."""
    if not ckpt.model.cfg.token_head or len(set(labels.tolist())) < 2:
        return None
    det = Detector(ckpt, device=str(next(ckpt.model.parameters()).device), threads=torch.get_num_threads())
    tokens = np.concatenate([det.score_windows_and_tokens(np.stack([audio.fit_window(c) for c in clips[i:i + 32]]))[1]
                             for i in range(0, len(clips), 32)])
    scores, token_labels = tokens.ravel(), np.repeat(labels, tokens.shape[1])
    finite = np.isfinite(scores)  # a NaN would make the calibration, and so the checkpoint, unusable
    try:
        return calibration.fit(scores[finite], token_labels[finite])
    except ValueError:
        return None


def validation_report(scores: np.ndarray, rows: Sequence[Row], cal: calibration.Calibration,
                      threshold: float) -> dict[str, Any]:
    ok = np.isfinite(scores)
    labels = np.array([r.label for r in rows])[ok]
    systems = [r.system for r, k in zip(rows, ok, strict=True) if k]
    s = scores[ok]
    report = metrics.summary(s, labels, systems, cal.llr(s), cal.score_at(threshold))
    report["n_unscored"] = int((~ok).sum())
    return report


def configs_for(encoder_blocks: int, raw_view: bool = False, **model: Any) -> tuple[FeatureConfig, ModelConfig]:
    """The feature extractor and model for fine-tuning Whisper's top `encoder_blocks` blocks (0: all frozen),
    with the raw-waveform branch beside them when `raw_view` (issue 27).

    Fine-tuned blocks run on Whisper's 20 ms frames, so the features come at 20 ms and the model
    joins two frames per token: tokens stay 40 ms, as before."""
    fcfg = FeatureConfig.for_finetuning(encoder_blocks)
    mcfg = ModelConfig(n_features=fcfg.n_features, encoder_blocks=encoder_blocks,
                       frames_per_token=2 if encoder_blocks else 1, raw_view=raw_view, **model)
    return fcfg, mcfg


def make_optimizer(model: SpoofTransformer, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW with two groups: the fine-tuned Whisper blocks at cfg.encoder_lr, the rest (the head, and the
    raw-waveform branch, which starts from scratch as the head does) at cfg.lr.
    Each group keeps its peak in "peak_lr"; the schedule scales both alike."""
    encoder = {id(p) for p in model.encoder_parameters()}
    groups = [{"params": [p for p in model.parameters() if id(p) not in encoder], "peak_lr": cfg.lr, "lr": cfg.lr}]
    if encoder:
        groups.append({"params": model.encoder_parameters(), "peak_lr": cfg.encoder_lr, "lr": cfg.encoder_lr})
    return torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)


# -- the loop ------------------------------------------------------------------------------
def _dist() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def train(train_rows: Sequence[Row], val_rows: Sequence[Row], out: str | os.PathLike[str],
          cfg: TrainConfig | None = None, model_cfg: ModelConfig | None = None,
          feature_cfg: FeatureConfig = DEFAULT_FEATURES, resume: bool = False, device: str | None = None,
          hook: Hook | None = None, provenance: dict[str, Any] | None = None) -> Checkpoint:
    """Train on `train_rows`, select and calibrate on `val_rows`, write the best checkpoint to `out`."""
    cfg = cfg or TrainConfig()
    out = Path(out)
    state_path = out.with_name(out.name + ".state")
    log_path = out.with_name(out.name + ".metrics.jsonl")
    rank, world = _dist()
    if rank == 0:
        for p in (out, state_path):
            remove_stale_temps(p)  # left by a run killed mid-write; the real files are intact
    emit: Hook = hook if (hook and rank == 0) else (lambda e: None)
    model_cfg = model_cfg or ModelConfig(n_features=feature_cfg.n_features)
    if model_cfg.n_features != feature_cfg.n_features:
        raise TrainingError("model n_features does not match the feature extractor")
    for name, part in (("training", train_rows), ("validation", val_rows)):
        if len({r.label for r in part}) < 2:
            raise TrainingError(f"the {name} set needs both bona fide and spoofed clips")

    dev = choose_device(device)
    if world > 1 and dev.type == "cuda":  # one GPU per process under torchrun
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)))
        torch.cuda.set_device(dev)
    if model_cfg.encoder_blocks and feature_cfg.frozen_blocks + model_cfg.encoder_blocks != whisper.N_LAYERS:
        raise TrainingError("the frozen and fine-tuned encoder blocks must add up to Whisper's 4")
    torch.manual_seed(cfg.seed)
    model = SpoofTransformer(model_cfg)
    model.load_whisper_top(whisper.load_encoder())
    model.to(dev)
    dtype = precision.training_dtype(dev)
    emit({"event": "start", "params": model.n_params(), "device": str(dev), "n_train": len(train_rows),
          "n_val": len(val_rows), "precision": str(dtype).removeprefix("torch."),
          "encoder_blocks": model_cfg.encoder_blocks, "raw_view": model_cfg.raw_view})

    t0 = time.time()
    train_clips, train_errors = load_clips(train_rows, emit)
    val_clips, val_errors = load_clips(val_rows, emit)
    keep = [i for i, c in enumerate(train_clips) if len(c)]
    train_clips = [train_clips[i] for i in keep]
    train_labels = np.array([train_rows[i].label for i in keep])
    weights = sampling_weights(train_labels, [train_rows[i].system for i in keep],
                               [train_rows[i].source for i in keep], cfg.matched_bonafide_share)
    vkeep = [i for i, c in enumerate(val_clips) if len(c)]
    val_clips = [val_clips[i] for i in vkeep]
    val_rows = [val_rows[i] for i in vkeep]
    emit({"event": "decoded", "seconds": time.time() - t0, "errors": train_errors + val_errors})

    steps_per_epoch = math.ceil((cfg.clips_per_epoch or len(train_clips)) / (cfg.batch_size * world))
    total_steps = steps_per_epoch * cfg.epochs
    opt = make_optimizer(model, cfg)
    start_epoch, start_step, best_eer, best_loss, bad_epochs, history = 0, 0, math.inf, math.inf, 0, []
    if resume:
        if not state_path.is_file():
            raise TrainingError(f"--resume: no training state at {state_path}")
        try:
            st = read_data(state_path)
            model.load_state_dict(st["model"])
            opt.load_state_dict(st["optimizer"])
        except (KeyError, RuntimeError, ValueError, ModelLoadError) as exc:
            raise TrainingError(f"--resume: {state_path} does not match this model or is damaged ({exc})") from None
        start_epoch, best_eer, bad_epochs = int(st["epoch"]) + 1, float(st["best_eer"]), int(st["bad_epochs"])
        best_loss = float(st.get("best_loss", math.inf))
        history = list(st["history"])
        if "step" in st:  # saved inside an epoch: finish that epoch from the next batch
            start_epoch, start_step = int(st["epoch"]), int(st["step"])
        emit({"event": "resumed", "epoch": start_epoch + 1, "step": start_step})
    if rank == 0:
        # The log must agree with the state: drop epochs the state does not know (a kill between
        # the log write and the state write), and start afresh when not resuming.
        kept = [line for line in (log_path.read_text(encoding="utf-8").splitlines() if resume and log_path.exists()
                                  else []) if json.loads(line)["epoch"] <= start_epoch]
        log_path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    ddp_model: torch.nn.Module = model
    if world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dev] if dev.type == "cuda" else None)

    token_samples = model_cfg.frames_per_token * feature_cfg.hop_samples
    dataset = CropDataset(train_clips, train_labels, cfg.augment, cfg.splice_prob if model_cfg.token_head else 0.0,
                          token_samples)
    n_draws = steps_per_epoch * cfg.batch_size * world
    best: Checkpoint | None = None
    for epoch in range(start_epoch, cfg.epochs):
        if bad_epochs >= cfg.patience:
            break
        torch.manual_seed(cfg.seed * 1000 + epoch)  # dropout masks: same run, same masks
        first = start_step if epoch == start_epoch else 0
        draws = epoch_draws(weights, n_draws, cfg.seed, epoch)[rank::world][first * cfg.batch_size:]
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=cfg.batch_size, sampler=draws, num_workers=cfg.num_workers,
            persistent_workers=False, drop_last=False,
        )
        model.train()
        t_epoch, losses = time.time(), []
        for step, (x, y, token_y) in enumerate(loader, start=first):
            global_step = epoch * steps_per_epoch + step
            for g in opt.param_groups:
                g["lr"] = lr_at(global_step, total_steps, int(cfg.warmup_epochs * steps_per_epoch), g["peak_lr"])
            x, y, token_y = x.to(dev), y.to(dev), token_y.to(dev)
            with precision.autocast(dev, dtype):
                pred = ddp_model(extract_views(x, feature_cfg))
            loss = F.binary_cross_entropy_with_logits(pred.score.float(), y)
            if pred.token_scores is not None:
                n = min(pred.token_scores.shape[1], token_y.shape[1])
                loss = loss + cfg.token_weight * F.binary_cross_entropy_with_logits(
                    pred.token_scores[:, :n].float(), token_y[:, :n])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(float(loss.detach()))
            emit({"event": "step", "epoch": epoch + 1, "step": step + 1, "steps": steps_per_epoch, "loss": losses[-1]})
            if rank == 0 and cfg.save_every and (step + 1) % cfg.save_every == 0 and step + 1 < steps_per_epoch:
                atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                             "step": step + 1, "best_eer": best_eer, "best_loss": best_loss,
                             "bad_epochs": bad_epochs, "history": history}, state_path)
        train_seconds = time.time() - t_epoch
        if rank == 0:
            model.eval()
            scores = (window_mean_scores(model, feature_cfg, val_clips, cfg.val_windows, dtype) if cfg.val_windows
                      else score_clips(model, feature_cfg, val_clips))
            ok = np.isfinite(scores)
            labels = np.array([r.label for r in val_rows])
            bona, spoof = scores[ok & (labels == 0)], scores[ok & (labels == 1)]
            eer = metrics.compute_eer(bona, spoof)[0]
            s_ok, y_ok = torch.as_tensor(scores[ok]), torch.as_tensor(labels[ok], dtype=torch.float64)
            val_loss = float(F.binary_cross_entropy_with_logits(s_ok, y_ok))
            record = {"epoch": epoch + 1, "train_loss": float(np.mean(losses)) if losses else math.nan,
                      "val_eer": eer, "val_loss": val_loss,
                      "epoch_seconds": train_seconds, "val_seconds": time.time() - t_epoch - train_seconds,
                      "lr": opt.param_groups[0]["lr"]}
            history.append(record)
            # Ties in EER are common on small validation sets (EER 0 early on); break them by loss.
            improved = eer < best_eer or (eer == best_eer and val_loss < best_loss)
            if improved:
                best_eer, best_loss, bad_epochs = eer, val_loss, 0
                cal = calibration.fit(scores[ok], labels[ok])
                best = Checkpoint(SpoofTransformer(model_cfg), feature_cfg, cal)
                best.model.load_state_dict(model.state_dict())
                best.token_calibration = fit_token_calibration(best, val_clips, labels)
                best.metrics = validation_report(scores, val_rows, cal, best.threshold)
                dropped = Counter((provenance or {}).get("dropped") or {})
                dropped.update(drop_reason(e) for e in train_errors + val_errors)
                best.provenance = {**(provenance or {}), "dropped": dict(dropped.most_common()),
                                   "epoch": epoch + 1, "train_config": cfg.to_dict(),
                                   "precision": str(dtype).removeprefix("torch."),
                                   "n_train": len(train_clips), "n_val": len(val_clips),
                                   "held_out_generators": not ({r.system for r in train_rows if r.label == 1}
                                                               & {r.system for r in val_rows if r.label == 1}),
                                   "params": model.n_params()}
                save_checkpoint(best, out)
            else:
                bad_epochs += 1
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps({**record, "best_val_eer": best_eer, "improved": improved}) + "\n")
            atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                         "best_eer": best_eer, "best_loss": best_loss, "bad_epochs": bad_epochs,
                         "history": history}, state_path)
            emit({"event": "epoch", **record, "best_val_eer": best_eer, "improved": improved})
        if world > 1:
            flag = torch.tensor([bad_epochs], dtype=torch.int64, device=dev)  # nccl needs it on the GPU
            torch.distributed.broadcast(flag, 0)
            bad_epochs = int(flag)
    if rank == 0 and best is None:
        from fakecheck.model.checkpoint import load as load_checkpoint

        best = load_checkpoint(out)  # resumed after the last improvement
    if best is not None:
        best.path = out
    emit({"event": "done", "seconds": time.time() - t0, "best_val_eer": best_eer})
    return best if best is not None else Checkpoint(model, feature_cfg)


__all__ = ["MIN_VAL_PER_CLASS", "SPLIT_BY_SOURCE", "TrainConfig", "TrainingError", "auto_split", "drop_held_out",
           "epoch_draws", "group_split", "lr_at", "stratified_split", "train"]
