"""``python -m inspector fit-calibration --checkpoint C --data D [--data D2] [--method M] [--split val]``."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fit-calibration",
        help="refit a CT checkpoint's softmax calibration on validation data (stored in its card)",
        description="Fit the softmax calibration of a CT checkpoint on the given split of one or more "
        "datasets (never a reporting set) and store it in the checkpoint card: `temperature` (one "
        "divisor) or `temperature_bias` (plus a per-class offset that undoes the uniform prior of "
        "class-balanced training).",
    )
    p.add_argument("--checkpoint", required=True, help="CT checkpoint (.safetensors); its card is rewritten")
    p.add_argument("--data", action="append", required=True, help="dataset folder(s) the model was trained with")
    p.add_argument("--split", default="val", help="manifest split to fit on (default: val)")
    p.add_argument("--method", default="temperature", help="temperature | temperature_bias (default: temperature)")
    p.add_argument("--limit", type=int, default=None, help="at most N slices")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.checkpoint import load_card
    from core.errors import ConfigError
    from training.metrics.calibration import CALIBRATION_METHODS
    from training.tasks.ct.data import make_dataset
    from training.tasks.ct.evaluation import data_config_from_card
    from training.tasks.ct.fit import calibrate_checkpoint

    if args.method not in CALIBRATION_METHODS:
        raise ConfigError(f"unknown --method {args.method!r}; choose from {', '.join(sorted(CALIBRATION_METHODS))}")
    cfg = data_config_from_card(load_card(args.checkpoint))  # calibrate_checkpoint loads the model
    cfg.limit = args.limit
    result = calibrate_checkpoint(args.checkpoint, make_dataset(args.data, args.split, cfg, train=False), cfg, args.method)
    print(json.dumps(result, indent=1))
    return 0
