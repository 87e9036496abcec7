"""``python -m inspector fit rgb --normals DIR [--defects DIR] [--false-alarm 0.01] [--detector NAME] --out DIR``."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="fit a feature-based RGB detector on normal photos (checkpoint + card)")
    p.add_argument("target", choices=["rgb"])
    p.add_argument("--normals", required=True, help="folder of normal photos (any nesting) or a dataset folder")
    p.add_argument("--defects", help="optional folder of defect photos: threshold by Youden's J")
    p.add_argument("--false-alarm", type=float, default=0.01, help="target false-alarm rate without defects (default 0.01)")
    p.add_argument("--detector", default="patchcore", help="registered RGB detector (python -m inspector list rgb_model)")
    p.add_argument("--backbone-weights", help="local .safetensors backbone weights (ImageNet/DINO, timm names); none or absent = random init (checkpoints/rgb_backbone_synth.safetensors is opt-in: better pixel maps, not better on a held-out photo style)")
    p.add_argument("--folds", type=int, help="cross-fitting folds (default: the detector's preset)")
    p.add_argument("--limit", type=int, help="use at most N normal photos")
    p.add_argument("--score", default="topk", help="score of the anomaly map: topk (default) or topk_relative (minus the photo's own mean level)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output folder for rgb_DETECTOR.safetensors + .json")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from training.tasks.rgb.adapt import FitConfig, fit_detector

    config = FitConfig(
        detector=args.detector,
        false_alarm=args.false_alarm,
        folds=args.folds,
        seed=args.seed,
        limit=args.limit,
        score=args.score,
    )
    card = fit_detector(args.normals, args.out, args.defects, config, args.backbone_weights)
    metrics = card["metrics"]
    summary = {
        "checkpoint": card["checkpoint"],
        "detector": card["architecture"],
        "threshold": card["threshold"],
        "rule": metrics["threshold_rule"]["rule"],
        "heldout_false_alarm": metrics["heldout_false_alarm"],
        "defect_recall": metrics["defect_recall"],
        "n_normals": metrics["n_normals"],
        "n_defects": metrics["n_defects"],
        "backbone": card["backbone"]["source"],
        "fit_seconds": metrics["fit_seconds"],
    }
    print(json.dumps(summary, indent=1))
    return 0
