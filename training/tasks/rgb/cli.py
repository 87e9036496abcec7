"""RGB task command-line glue: ``python -m inspector train rgb`` / ``evaluate rgb``."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.errors import InputError
from training.config import load_config
from training.tasks.rgb.config import RGBConfig
from training.tasks.rgb.evaluation import evaluate_checkpoint
from training.tasks.rgb.fit import train

__all__ = ["evaluate_from_cli", "train_from_cli"]


def train_from_cli(
    config_path: str | Path,
    data_dir: str | Path,
    out_dir: str | Path,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``python -m inspector train rgb --config FILE --data DIR --out DIR [--epochs N] [--seed N]``."""
    mapped = {f"train.{key}": value for key, value in (overrides or {}).items()}
    config = load_config(config_path, RGBConfig, mapped)
    return train(config, data_dir, out_dir)


def evaluate_from_cli(args: argparse.Namespace) -> dict[str, Any]:
    """``python -m inspector evaluate rgb --checkpoint PATH --data DIR [--split test] --json OUT [--report DIR]``."""
    if not args.checkpoint:
        raise InputError("evaluate rgb needs --checkpoint PATH.safetensors.")
    return evaluate_checkpoint(
        args.checkpoint, args.data, split=args.split, limit=args.limit, report_dir=args.report
    )
