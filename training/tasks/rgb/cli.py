"""RGB task command-line glue: ``python -m inspector train rgb`` / ``evaluate rgb``."""

from __future__ import annotations

import argparse
from typing import Any

from core.errors import InputError
from training.tasks import cli_entry_point
from training.tasks.rgb.config import load_rgb_config
from training.tasks.rgb.evaluation import evaluate_checkpoint
from training.tasks.rgb.fit import train

__all__ = ["evaluate_from_cli", "train_from_cli"]

# train() logs its own result (val/test ROC-AUC, threshold) and returns a dict, not a FitSummary
train_from_cli = cli_entry_point("rgb", load_rgb_config, train, report=None)


def evaluate_from_cli(args: argparse.Namespace) -> dict[str, Any]:
    """``python -m inspector evaluate rgb --checkpoint PATH --data DIR [--split test] --json OUT [--report DIR]``."""
    if not args.checkpoint:
        raise InputError("evaluate rgb needs --checkpoint PATH.safetensors.")
    return evaluate_checkpoint(
        args.checkpoint, args.data, split=args.split, limit=args.limit, report_dir=args.report
    )
