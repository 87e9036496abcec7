"""``python -m inspector calibrate --data DIR --eval-data DIR``: calibrate the verdict confidence.

Inspects every labelled CT+RGB pair of a selection set (``--data``, e.g. synthetic seed 4) with
the default (or given) checkpoints, fits an isotonic map from the raw verdict confidence to
``P(verdict correct)``, evaluates it on another set (``--eval-data``, e.g. seed 1, split test),
and writes ``verdict_calibration.json`` next to the checkpoints (the inspector then reports the
calibrated probability) plus, with ``--figure``, a reliability diagram.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from inspector.settings import default_checkpoints_dir

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit the verdict confidence to P(verdict correct) on labelled CT+RGB pairs",
        description="Fit an isotonic map from the raw verdict confidence to the probability that "
        "the verdict is right on the labelled pairs of a selection set, report ECE on another set, "
        "and store it as verdict_calibration.json next to the checkpoints.",
    )
    p.add_argument("--data", required=True, help="selection dataset (e.g. synthetic seed 4)")
    p.add_argument("--split", default="all", help="split of --data to fit on (default: all)")
    p.add_argument("--eval-data", required=True, help="dataset to report ECE on (e.g. seed 1)")
    p.add_argument("--eval-split", default="test", help="split of --eval-data (default: test)")
    p.add_argument("--checkpoints-dir", default=None, help="where the checkpoints are (default: checkpoints/)")
    p.add_argument("--out", help="calibration JSON (default: CHECKPOINTS_DIR/verdict_calibration.json)")
    p.add_argument("--figure", help="also write the reliability diagram as PNG")
    p.add_argument("--policy", choices=("or", "and"), default="or", help="verdict policy (default: or)")
    p.add_argument("--limit", type=int, default=None, help="at most N pairs per dataset")
    p.set_defaults(func=run)


def _outcomes(inspector: Any, data: Path, split: str, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Raw confidences and 0/1 correctness of the verdicts on the labelled pairs of ``data``."""
    from core.errors import InputError
    from core.imageio import load_image
    from inspector.pairs import items_from_manifest

    items = items_from_manifest(data, split=split, paired_only=True)
    items = [it for it in items if it.expected is not None][:limit]
    if len(items) < 2:
        raise InputError(f"{data} has fewer than 2 labelled CT+RGB pairs in split {split!r}")
    raw, correct = [], []
    for item in items:
        evidence = inspector.analyse(
            load_image(item.ct_path, "ct"),
            load_image(item.rgb_path, "rgb"),
            battery_type=item.battery_type,
            axis=item.axis,
        )
        verdict = evidence.verdict
        raw.append(verdict.confidence if verdict.raw_confidence is None else verdict.raw_confidence)
        correct.append(float(verdict.verdict == item.expected))
    return np.asarray(raw), np.asarray(correct)


def run(args: argparse.Namespace) -> int:
    from inspector.calibration import (
        CALIBRATION_FILE,
        VerdictCalibration,
        expected_calibration_error,
        fit_isotonic,
        reliability_bins,
    )
    from inspector.pipeline import Inspector
    from inspector.settings import InspectorSettings

    folder = Path(args.checkpoints_dir) if args.checkpoints_dir else default_checkpoints_dir()
    inspector = Inspector.load(InspectorSettings(checkpoints_dir=folder, policy=args.policy))
    inspector.calibration = None  # fit on the raw confidence, never on an older calibration
    fit_raw, fit_ok = _outcomes(inspector, Path(args.data), args.split, args.limit)
    eval_raw, eval_ok = _outcomes(inspector, Path(args.eval_data), args.eval_split, args.limit)
    x, y = fit_isotonic(fit_raw, fit_ok)
    names = {k: v for k, v in inspector.checkpoint_names().items() if v is not None}
    calibration = VerdictCalibration(x=x, y=y, checkpoints=names, policy=args.policy)
    fit_cal = np.array([calibration(v) for v in fit_raw])
    eval_cal = np.array([calibration(v) for v in eval_raw])
    calibration.report = {
        "fit": {"data": str(args.data), "split": args.split, "n": int(fit_raw.size),
                "accuracy": float(fit_ok.mean()),
                "ece_raw": expected_calibration_error(fit_raw, fit_ok),
                "ece_calibrated": expected_calibration_error(fit_cal, fit_ok)},
        "eval": {"data": str(args.eval_data), "split": args.eval_split, "n": int(eval_raw.size),
                 "accuracy": float(eval_ok.mean()),
                 "ece_raw": expected_calibration_error(eval_raw, eval_ok),
                 "ece_calibrated": expected_calibration_error(eval_cal, eval_ok),
                 "reliability_raw": reliability_bins(eval_raw, eval_ok),
                 "reliability_calibrated": reliability_bins(eval_cal, eval_ok)},
    }  # fmt: skip
    out = calibration.save(Path(args.out) if args.out else folder / CALIBRATION_FILE)
    if args.figure:
        from inspector.calibration import save_reliability_diagram

        save_reliability_diagram(calibration.report["eval"], Path(args.figure))
    summary = {"out": str(out), **{k: {m: v for m, v in section.items() if not m.startswith("reliability")}
                                    for k, section in calibration.report.items()}}
    print(json.dumps(summary, indent=2))
    return 0
