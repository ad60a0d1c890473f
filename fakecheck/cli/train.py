"""`fakecheck train`: train or fine-tune a model on a labelled dataset."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fakecheck.version import __version__

if TYPE_CHECKING:
    from rich.console import Console
from fakecheck.cli.common import consoles
from fakecheck.cli.exits import EXIT_INTERRUPTED, fail

DEFAULT_ENCODER_BLOCKS = 4  # = the shipped model's (models/MODEL_CARD.md); chosen on the validation split


def train(
    data: Annotated[list[Path], typer.Argument(metavar="DATA", help="Training data: folders, CSV manifests or ASVspoof/ITW/WaveFake/FoR layouts.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the best checkpoint (.pt).")],
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 30,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT.state after an interruption.")] = False,
    val: Annotated[list[Path] | None, typer.Option("--val", help="Validation data (default: hold out whole sources).")] = None,
    extra: Annotated[list[Path] | None, typer.Option("--extra", help="Training-only data (e.g. vocoded resynthesis); rows from validation sources are dropped.")] = None,
    clips_per_epoch: Annotated[int, typer.Option("--clips-per-epoch", min=0, help="Windows drawn per epoch (0: one per training clip).")] = 0,
    fmt: Annotated[str | None, typer.Option("--format", help="Force the dataset layout instead of autodetecting.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing OUT (and its .state) instead of refusing.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=2)] = 32,
    lr: Annotated[float, typer.Option("--lr")] = 1e-3,
    patience: Annotated[int, typer.Option("--patience", min=1)] = 6,
    val_fraction: Annotated[float, typer.Option("--val-fraction", min=0.05, max=0.5)] = 0.2,
    workers: Annotated[int, typer.Option("--workers", min=0, help="Augmentation worker processes.")] = 1,
    no_augment: Annotated[bool, typer.Option("--no-augment", help="Disable waveform augmentation.")] = False,
    device: Annotated[str | None, typer.Option("--device", help="cpu, cuda, mps or auto.")] = None,
    encoder_blocks: Annotated[int, typer.Option("--encoder-blocks", min=0, max=4, help="Fine-tune Whisper's top K encoder blocks (0: keep the encoder frozen).")] = DEFAULT_ENCODER_BLOCKS,
    encoder_lr: Annotated[float, typer.Option("--encoder-lr", help="Peak learning rate of the fine-tuned encoder blocks.")] = 3e-5,
    raw_view: Annotated[bool, typer.Option("--raw-view", help="Add a second view: a learnable filterbank on the waveform, fused with Whisper's tokens.")] = False,
) -> None:
    """Train a model; validation EER every epoch, best checkpoint kept, calibrated on validation."""
    _check_train_out(out, force, resume)  # before torch and the data load: a typo costs nothing
    import torch

    from fakecheck.training import datasets
    from fakecheck.training import train as training

    _, err = consoles()
    rank = int(os.environ.get("RANK", "0"))
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() and device != "cpu" else "gloo")
    from fakecheck.analysis.detector import _threads_default

    torch.set_num_threads(_threads_default())
    try:
        rows = [r for d in data for r in datasets.load_dataset(d, fmt)]
        datasets.validate(rows)
        stratified = False
        if val:
            val_rows = [r for d in val for r in datasets.load_dataset(d, fmt)]
            datasets.validate(val_rows)
            train_rows, val_kind = rows, f"given with --val: {', '.join(Path(d).name for d in val)}"
        elif rows and all(r.split in ("train", "validation") for r in rows):
            train_rows = [r for r in rows if r.split == "train"]
            val_rows = [r for r in rows if r.split == "validation"]
            val_kind = "the manifest's split column"
        else:
            train_rows, val_rows, val_kind = training.auto_split(rows, val_fraction, seed)
            stratified = val_kind != training.SPLIT_BY_SOURCE
        dropped = {training.DROP_SYSTEM_IN_VAL: len(rows) - len(train_rows) - len(val_rows)} if not val else {}
        if extra:
            extra_rows = [r for d in extra for r in datasets.load_dataset(d, fmt)]
            datasets.validate(rows + extra_rows)
            kept = training.drop_held_out(extra_rows, val_rows, by_source=not stratified)
            train_rows = train_rows + kept
            dropped[training.DROP_EXTRA_HELD_OUT] = len(extra_rows) - len(kept)
        dropped = {reason: n for reason, n in dropped.items() if n}
    except datasets.DatasetError as exc:
        raise fail(f"dataset problem: {exc}") from None
    except training.TrainingError as exc:
        raise fail(str(exc)) from None
    if rank == 0:
        if stratified:
            err.print(f"validation: {val_kind}", markup=False)
        else:  # name the sources and generators the validation figure will come from
            from fakecheck.training.splits import held_out_summary

            err.print(f"validation: {val_kind}: {held_out_summary(val_rows)}", markup=False)
        if dropped:
            total = len(rows) + (len(extra_rows) if extra else 0)
            err.print(f"left out {sum(dropped.values())} of {total} rows before training: "
                      + ", ".join(f"{n} {reason}" for reason, n in dropped.items()), markup=False)
        n_val = [sum(r.label == c for r in val_rows) for c in (0, 1)]
        if min(n_val) < training.MIN_VAL_PER_CLASS:
            err.print(f"warning: validation holds {n_val[0]} bona fide and {n_val[1]} spoof clips; an EER on "
                      f"{sum(n_val)} clips is not meaningful (aim for {training.MIN_VAL_PER_CLASS} of each, "
                      "or pass a larger --val)", markup=False)
    cfg = training.TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, patience=patience, seed=seed,
                               num_workers=workers, val_fraction=val_fraction,
                               clips_per_epoch=clips_per_epoch, encoder_lr=encoder_lr)
    if no_augment:
        cfg.augment = None
    provenance = {"command": " ".join(["fakecheck", *sys.argv[1:]]), "data": [str(d) for d in data],
                  "extra": [str(d) for d in extra or []],
                  "fakecheck_version": __version__, "seed": seed,
                  "val_kind": val_kind, "val_sources": sorted({r.source for r in val_rows}), "dropped": dropped,
                  "val_systems": sorted({r.system for r in val_rows if r.label == 1})}
    hook = _train_hook(err) if rank == 0 else None
    try:
        feature_cfg, model_cfg = training.configs_for(encoder_blocks, raw_view=raw_view)
        ckpt = training.train(train_rows, val_rows, out, cfg, model_cfg, feature_cfg, resume=resume, device=device,
                              hook=hook, provenance=provenance)
    except training.TrainingError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        err.print(f"interrupted: the last good checkpoint is intact; continue with --resume (state: {out}.state)")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    if rank == 0:
        # The run finished: its resumable state (~90 MB) has nothing left to resume.
        out.with_name(out.name + ".state").unlink(missing_ok=True)
        m = ckpt.metrics
        err.print(f"best validation EER {m.get('eer', float('nan')):.2%}, minDCF {m.get('min_dcf', float('nan')):.3f}"
                  f" -> {out}", markup=False)


def _check_train_out(out: Path, force: bool, resume: bool) -> None:
    """--out must name a new file in a writable folder (or an existing one with --force / --resume)."""
    if out.is_dir():
        raise fail(f"--out {out} is a directory; name the checkpoint file, e.g. {out / 'model.pt'}")
    folder = out.parent
    if not folder.exists():
        raise fail(f"--out {out}: the folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise fail(f"--out {out}: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise fail(f"--out {out}: the folder {folder} is not writable")
    if not (force or resume):
        for existing in (out, out.with_name(out.name + ".state")):
            if existing.exists():
                raise fail(f"--out {out}: {existing} already exists; pass --force to overwrite it, "
                            "or --resume to continue that run")


def _train_hook(err: Console) -> Any:
    def hook(e: dict[str, Any]) -> None:
        kind = e["event"]
        if kind == "start":
            err.print(f"model: {e['params']:,} parameters on {e['device']} in {e['precision']}"
                      f"{' (native bf16 on this CPU)' if e['precision'] == 'bfloat16' and e['device'] == 'cpu' else ''}, "
                      f"{e['encoder_blocks']} Whisper blocks fine-tuned"
                      f"{', a raw-waveform view beside them' if e.get('raw_view') else ''}; {e['n_train']} training and "
                      f"{e['n_val']} validation clips", markup=False)
        elif kind == "decoded":
            from collections import Counter

            from fakecheck.training.train import drop_reason

            why = Counter(drop_reason(line) for line in e["errors"])
            n = len(e["errors"])
            err.print(f"decoded in {e['seconds']:.0f} s; {n} clip{'' if n == 1 else 's'} skipped"
                      + (": " + ", ".join(f"{k} {r}" for r, k in why.most_common()) if why else ""), markup=False)
            for line in e["errors"][:5]:
                err.print(f"  skipped {line}", markup=False, soft_wrap=True)
        elif kind == "step" and err.is_terminal:
            err.print(f"epoch {e['epoch']} step {e['step']}/{e['steps']} loss {e['loss']:.3f}", end="\r",
                      markup=False)
        elif kind == "epoch":
            mark = " *" if e["improved"] else ""
            err.print(f"epoch {e['epoch']}: loss {e['train_loss']:.3f}, val EER {e['val_eer']:.2%}, "
                      f"{e['epoch_seconds'] + e.get('val_seconds', 0.0):.0f} s{mark}", markup=False)
        elif kind == "resumed":
            err.print(f"resuming at epoch {e['epoch']}" + (f", step {e['step'] + 1}" if e.get('step') else ""), markup=False)
    return hook
