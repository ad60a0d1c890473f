"""`fakecheck info`: what a checkpoint is, from the checkpoint itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fakecheck.cli.common import load_detector
from fakecheck.cli.consoles import consoles


def info(
    model: Annotated[Path | None, typer.Option("--model", help="Checkpoint (default: the bundled model).")] = None,
) -> None:
    """Show a model's card summary: parameters, checksum, training data, validation figures, threshold."""
    import json

    det = load_detector(model, "cpu", None)
    ck = det.checkpoint
    m, p = ck.metrics, ck.provenance
    out, _ = consoles()
    lines = [
        f"model        {ck.name}",
        f"sha256       {ck.sha256}",
        f"contents     {ck.content_status}",
        f"parameters   {ck.model.n_params():,}",
        f"architecture {json.dumps(ck.model.cfg.to_dict())}",
        f"features     {ck.features.frontend}: {ck.features.n_stages} stage{'s' if ck.features.n_stages != 1 else ''} "
        f"x {ck.features.stage_width} "
        f"per {ck.features.hop_samples * 1000 // ck.features.sample_rate} ms frame (frozen: the stem and "
        f"{ck.features.frozen_blocks} of 4 blocks)",
        f"fine-tuned   {ck.model.cfg.encoder_blocks} Whisper block{'s' if ck.model.cfg.encoder_blocks != 1 else ''} "
        "and its final norm, as the model's first layers"
        if ck.model.cfg.encoder_blocks else "fine-tuned   none (the whole encoder is frozen)",
        f"trained on   {', '.join(Path(d).name for d in p.get('data', [])) or 'unknown'} "
        f"({p.get('n_train', '?')} clips)",
        f"validation   {p.get('n_val', '?')} clips, {p.get('val_kind', 'validation split')}; "
        f"EER {m.get('eer', float('nan')):.2%}, "
        f"minDCF {m.get('min_dcf', float('nan')):.3f}, Cllr {m.get('cllr', float('nan')):.3f}",
        f"calibration  llr = {_affine(ck.calibration.a, ck.calibration.b, 'score')}",
        f"threshold    P(fake) >= {ck.threshold} -> FAKE; a stretch of speech at or above it -> PARTIAL",
    ]
    tcal = ck.token_calibration
    if not ck.model.cfg.token_head:
        head = "none: the timeline repeats each window's score"
    elif tcal is None:
        head = "yes, calibrated with the clip calibration"
    else:
        head = f"llr = {_affine(tcal.a, tcal.b, 'token score')}"
    lines.insert(-1, f"token head   {head}")
    out.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)  # one line per field


def _affine(a: float, b: float, x: str) -> str:
    """'a * x + b' with the sign of b written once: 1.2 * score - 1.99, not + -1.99."""
    return f"{a:.4f} * {x} {'-' if b < 0 else '+'} {abs(b):.4f}"
