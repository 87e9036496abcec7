"""GAIN task training: fit one GAIN-MTL model, then tune the decision threshold on val."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from core.checkpoint import update_card
from core.errors import InputError
from training.loop import FitSummary, Trainer, seed_everything
from training.tasks.gain.config import GainConfig, model_kwargs
from training.tasks.gain.data import GainSplit, make_loader
from training.tasks.gain.evaluation import load_gain_model
from training.tasks.gain.task import GainTask
from training.tasks.gain.threshold import tune_threshold

log = logging.getLogger(__name__)

__all__ = ["train"]


def train(
    config: GainConfig,
    data_dir: str | Path,
    out_dir: str | Path,
    splits: Mapping[str, GainSplit] | None = None,
) -> FitSummary:
    """Train one GAIN-MTL model and write the run folder (``last``/``best`` checkpoints, logs).

    Args:
        config: The validated config.
        data_dir: Dataset folder with ``manifest.csv``.
        out_dir: Run folder.
        splits: Already cached ``{"train": ..., "val": ...}`` splits (the ablation reuses them).

    Returns:
        The Trainer's summary.
    """
    from models.gain_mtl import create_gain_model
    from training.fingerprint import dataset_fingerprint

    seed_everything(config.train.seed, config.train.deterministic)
    d = config.data
    splits = dict(splits or {})
    train_set = splits.get("train") or GainSplit(
        data_dir, d.train_split, d.input_size, d.augment, d.limit, intensity=d.intensity
    )
    val_set = splits.get("val") or GainSplit(
        data_dir, d.val_split, d.input_size, "none", d.val_limit, intensity=d.intensity
    )
    if train_set.is_defect.unique().numel() < 2:
        raise InputError(f"the {d.train_split} split of {data_dir} needs both normal and defect images")
    model = create_gain_model(**model_kwargs(config.model), pretrained_path=config.model.pretrained)
    dirs = [data_dir] if isinstance(data_dir, (str, Path)) else list(data_dir)
    fingerprints = [dataset_fingerprint(x) for x in dirs]
    task = GainTask(model, config, fingerprints[0] if len(dirs) == 1 else {"datasets": fingerprints})
    trainer = Trainer(task, config.train, out_dir, resolved_config=config)
    summary = trainer.fit(
        make_loader(train_set, d, config.train.seed, train=True),
        make_loader(val_set, d, config.train.seed, train=False),
    )
    for path in dict.fromkeys(p for p in (summary.last_path, summary.best_path) if p is not None):
        tuned, card = load_gain_model(path)
        threshold = tune_threshold(tuned, card, val_set)
        update_card(path, threshold=threshold)
        log.info("%s: decision threshold %.3f (tuned on %s)", Path(path).name, threshold, d.val_split)
    return summary
