"""`fakecheck evaluate`: EER, minDCF and per-system figures on a labelled dataset or a score file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from fakecheck.cli.common import load_detector, warn_duplicate_trials
from fakecheck.cli.consoles import consoles
from fakecheck.cli.exits import EXIT_INPUT_ERROR, EXIT_OK, EXIT_WRITE_ERROR, fail

BOOTSTRAP_RESAMPLES = 1000  # = metrics.BOOTSTRAP_RESAMPLES (tests/test_evaluate.py checks); metrics loads NumPy


def evaluate(
    data: Annotated[Path | None, typer.Argument(metavar="DATA", help="Labelled data in any layout `train` reads (or give --score-file and --key).")] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Checkpoint (default: the bundled model).")] = None,
    score_file: Annotated[Path | None, typer.Option("--score-file", help="Evaluate an existing 'trial score' file (e.g. AASIST's) instead of a model.")] = None,
    key: Annotated[Path | None, typer.Option("--key", help="The key of --score-file: 'trial label [system]' lines or an ASVspoof 2019/2021/5 protocol.")] = None,
    higher_is_spoof: Annotated[bool, typer.Option("--higher-is-spoof", help="--score-file scores are higher = spoof (default: ASVspoof's higher = bona fide).")] = False,
    llr: Annotated[bool, typer.Option("--llr", help="--score-file scores are calibrated LLRs: report actDCF and Cllr too.")] = False,
    json_out: Annotated[str | None, typer.Option("--json", help="Write metrics as JSON to FILE or -.")] = None,
    scores: Annotated[Path | None, typer.Option("--scores", help="Write 'trial score' lines (ASVspoof sign; trial = file stem).")] = None,
    scores_full_path: Annotated[bool, typer.Option("--scores-full-path", help="Name --scores trials by full path, not stem.")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a DET curve PNG.")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples for the 95% intervals of EER and minDCF (0: none).")] = BOOTSTRAP_RESAMPLES,
    fmt: Annotated[str | None, typer.Option("--format", help="Force the dataset layout.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1)] = 2,
    device: Annotated[str | None, typer.Option("--device")] = None,
    score_all: Annotated[bool, typer.Option("--score-all", help="Score INCONCLUSIVE clips too (too little speech), from the windows the model saw: for challenge protocols that need a score for every trial.")] = False,
) -> None:
    """Score labelled data: EER and minDCF with 95% CIs, actDCF (ASVspoof 5 costs), Cllr, AUC, per-system EER."""
    import json

    from fakecheck.evaluation import metrics
    from fakecheck.evaluation import trials as evaluation

    out, err = consoles()
    if score_file or key:
        if not (score_file and key):
            raise fail("--score-file and --key go together: give both" if score_file
                        else "--key is the key of a --score-file: give both")
        if data or model or scores or score_all:
            raise fail("evaluate scores DATA with a model, or a --score-file against a --key: not both "
                        "(DATA, --model, --scores and --score-all belong to the first)")
        ev = _evaluate_score_file(score_file, key, higher_is_spoof, llr)
        title = f"{score_file.name} against {key.name}"
    else:
        if data is None:
            raise fail("evaluate needs DATA (labelled audio) or --score-file FILE --key KEY")
        if higher_is_spoof or llr:
            raise fail("--higher-is-spoof and --llr describe a --score-file")
        ev = _evaluate_model(data, model, fmt, device, jobs, score_all)
        title = f"{ev['model']} on {data}"
    s, labels = ev["scores"], ev["labels"]
    if len(set(labels.tolist())) < 2:
        raise fail("fewer than two classes could be scored; nothing to evaluate", EXIT_INPUT_ERROR)
    report = metrics.summary(s, labels, ev["systems"], ev["llr"], ev["score_threshold"])
    cal = ev["calibration"]
    report.update({
        "threshold": ev["threshold"],  # a P(fake), as everywhere in fakecheck; None without a calibrated model
        "eer_threshold": float(cal.p_fake(report["eer_score_threshold"])) if cal else None,
        "score_sign": evaluation.score_sign(score_file is not None, higher_is_spoof),
        "confidence_intervals": metrics.bootstrap_ci(s[labels == 0], s[labels == 1], bootstrap)
        if bootstrap else None,
        "model": ev["model"], "precision": ev.get("precision"), "data": str(data) if data else None,
        "score_file": str(score_file) if score_file else None, "key": str(key) if key else None,
        "n_failed": len(ev["failed"]), "failed": ev["failed"],
        "unscored_reasons": evaluation.reason_counts(ev["failed"]), "score_all": score_all,
        "n_scored_inconclusive": ev.get("n_scored_inconclusive", 0),
        "min_system_trials": evaluation.MIN_SYSTEM_TRIALS,
        "n_missing": len(ev["missing"]), "missing": ev["missing"][:20], "n_unlabelled": ev["n_unlabelled"],
    })
    evaluation.mark_small_systems(report["per_system"])
    if bootstrap:
        for name, ci in metrics.per_system_ci(s, labels, ev["systems"], bootstrap).items():
            report["per_system"][name]["eer_ci"] = ci
    if scores:
        warn_duplicate_trials(err, ev["paths"], scores_full_path)
        try:
            metrics.write_trial_scores(scores, [(metrics.trial_id(p, scores_full_path), float(v))
                                                for p, v in zip(ev["paths"], s, strict=True)])
        except OSError as exc:
            raise fail(f"cannot write {scores}: {exc.strerror}", EXIT_WRITE_ERROR) from None
    if plot:
        try:
            metrics.plot_det(s[labels == 0], s[labels == 1], plot, title=title)
        except ImportError as exc:
            raise fail(str(exc)) from None
    if json_out:
        text = json.dumps(report, indent=2)
        if json_out == "-":
            typer.echo(text)
        else:
            Path(json_out).write_text(text + "\n", encoding="utf-8")
    if json_out != "-":
        out.print(_metrics_tables(report, title))
    if hint := evaluation.sign_hint(report["eer"], report["auc"], score_file is not None, higher_is_spoof):
        err.print(hint, markup=False)
    if ev["failed"]:
        err.print(evaluation.unscored_line(ev["failed"], ev["n_files"], score_all), markup=False)
    if ev["missing"]:
        err.print(f"{len(ev['missing'])} key trials have no score in {score_file} (the first 20 are in --json "
                  "`missing`); the metrics cover the rest", markup=False)
    if ev["n_unlabelled"]:
        err.print(f"warning: {ev['n_unlabelled']} scored trials are not in the key {key}; they are left out",
                  markup=False)
    raise typer.Exit(EXIT_INPUT_ERROR if ev["failed"] or ev["missing"] else EXIT_OK)


def _evaluate_model(data: Path, model: Path | None, fmt: str | None, device: str | None, jobs: int,
                    score_all: bool = False) -> dict[str, Any]:
    """Run a model over labelled audio: aligned scores, labels, systems and LLRs of the files it could score."""
    import numpy as np

    from fakecheck.evaluation import trials as evaluation
    from fakecheck.training import datasets

    try:
        rows = datasets.load_dataset(data, fmt)
        datasets.validate(rows)
    except datasets.DatasetError as exc:
        raise fail(f"dataset problem: {exc}") from None
    det = load_detector(model, device, None)
    results = list(det.analyse_files([r.path for r in rows], jobs=jobs))
    trial = [evaluation.trial_score(v, score_all) for v in results]
    ok = [i for i, t in enumerate(trial) if t is not None]
    s = np.array([trial[i] for i in ok], dtype=np.float64)
    cal = det.checkpoint.calibration
    return {"scores": s, "labels": np.array([rows[i].label for i in ok], dtype=np.int64),
            "systems": [rows[i].system for i in ok], "llr": cal.llr(s), "paths": [str(rows[i].path) for i in ok],
            "score_threshold": float(cal.score_at(det.threshold)), "threshold": det.threshold, "calibration": cal,
            "model": det.model_name, "precision": det.precision, "missing": [], "n_unlabelled": 0, "n_files": len(rows),
            "n_scored_inconclusive": sum(results[i].score is None for i in ok),
            "failed": [evaluation.unscored_entry(str(rows[i].path), v) for i, (v, t) in enumerate(zip(results, trial, strict=True))
                       if t is None]}


def _evaluate_score_file(score_file: Path, key: Path, higher_is_spoof: bool, llr: bool) -> dict[str, Any]:
    """Join a score file with its key: the trials of both, plus the key trials without a score."""
    import numpy as np

    from fakecheck.evaluation import metrics

    try:
        scored = metrics.read_trial_scores(score_file, higher_is_spoof)
        labelled = metrics.read_key(key)
    except metrics.TrialFileError as exc:
        raise fail(str(exc)) from None
    common = [t for t in labelled if t in scored]
    if not common:
        raise fail(f"no trial of {score_file} is in the key {key} (e.g. {next(iter(scored), '-')!r} against "
                    f"{next(iter(labelled))!r}); both must name trials the same way, e.g. by utterance ID")
    s = np.array([scored[t] for t in common], dtype=np.float64)
    return {"scores": s, "labels": np.array([labelled[t][0] for t in common], dtype=np.int64),
            "systems": [labelled[t][1] for t in common], "llr": s if llr else None, "paths": common,
            "score_threshold": None, "threshold": None, "calibration": None, "model": None, "failed": [],
            "missing": [t for t in labelled if t not in scored], "n_files": len(labelled),
            "n_unlabelled": sum(t not in labelled for t in scored)}


def _metrics_tables(report: dict[str, Any], title: str) -> Any:
    """The metrics table (with 95% intervals where computed) and the per-system EER table."""
    from rich.console import Group
    from rich.table import Table

    ci = report.get("confidence_intervals") or {}
    table = Table(title=title, show_edge=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    if ci:
        table.add_column(f"{ci['level']:.0%} CI", justify="right")
    for name in ("eer", "min_dcf", "act_dcf", "cllr", "auc", "accuracy", "n_bonafide", "n_spoof"):
        val = report[name]
        cells = [name, f"{val:.4f}" if isinstance(val, float) else "-" if val is None else str(val)]
        if ci:
            cells.append(f"{ci[name][0]:.4f}-{ci[name][1]:.4f}" if name in ci else "")
        table.add_row(*cells)
    per = Table(title="EER per spoofing system", show_edge=False)
    per.add_column("system")
    per.add_column("n", justify="right")
    per.add_column("EER", justify="right")
    if ci:
        per.add_column(f"{ci['level']:.0%} CI", justify="right")
    for name, d in sorted(report["per_system"].items()):
        cells = [name + (" *" if d["few_trials"] else ""), str(d["n"]), f"{d['eer']:.2%}"]
        if ci:
            cells.append(f"{d['eer_ci'][0]:.2%}-{d['eer_ci'][1]:.2%}")
        per.add_row(*cells)
    if not any(d["few_trials"] for d in report["per_system"].values()):
        return Group(table, per)
    return Group(table, per, f"* fewer than {report['min_system_trials']} spoof trials: that EER is not reliable")
