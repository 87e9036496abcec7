"""GAIN task command-line glue: ``python -m inspector train gain`` / ``evaluate gain``."""

from __future__ import annotations

import argparse
from typing import Any

from core.errors import InputError
from training.tasks import cli_entry_point
from training.tasks.gain.config import load_gain_config
from training.tasks.gain.evaluation import evaluate, load_gain_model
from training.tasks.gain.fit import train

__all__ = ["evaluate_from_cli", "train_from_cli"]


train_from_cli = cli_entry_point("gain", load_gain_config, train, report="last")


def evaluate_from_cli(args: argparse.Namespace) -> dict[str, Any]:
    """Entry point of ``python -m inspector evaluate gain --checkpoint ... --data ... --json ...``."""
    if not args.checkpoint:
        raise InputError("evaluate gain needs --checkpoint NAME.safetensors")
    model, card = load_gain_model(args.checkpoint)
    metrics = evaluate(model, card, args.data, split=args.split, limit=args.limit)
    metrics.update(split=args.split, checkpoint=str(args.checkpoint), strategy=card.get("strategy"))
    return metrics
