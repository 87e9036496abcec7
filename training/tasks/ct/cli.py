"""CT task command-line glue: ``python -m inspector train ct`` / ``evaluate ct``."""

from __future__ import annotations

import argparse
from typing import Any

from core.errors import InputError
from training.tasks import cli_entry_point
from training.tasks.ct.config import load_ct_config
from training.tasks.ct.evaluation import evaluate
from training.tasks.ct.fit import train

__all__ = ["evaluate_from_cli", "train_from_cli"]

train_from_cli = cli_entry_point("ct", load_ct_config, train, report="best")


def evaluate_from_cli(args: argparse.Namespace) -> dict[str, Any]:
    """Entry point of ``python -m inspector evaluate ct`` (returns the JSON the command writes)."""
    if not args.checkpoint:
        raise InputError("evaluate ct needs --checkpoint NAME.safetensors")
    detail = {"card": None, "on": True, "off": False}[getattr(args, "detail_pass", None) or "card"]
    return evaluate(
        args.checkpoint,
        args.data,
        args.split,
        getattr(args, "report", None),
        getattr(args, "limit", None),
        detail_pass=detail,
        localisation=bool(getattr(args, "localisation", False)),
    )
