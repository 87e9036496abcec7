"""CT task training: fit a classifier on the shared loop, then calibrate it on val."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from core.checkpoint import load_checkpoint, load_state_dict_strict, update_card
from training.fingerprint import dataset_fingerprint
from training.loop import FitSummary, Trainer, seed_everything
from training.metrics.calibration import (
    expected_calibration_error,
    fit_temperature,
    softmax_with_temperature,
)
from training.tasks.ct.config import CLASS_NAMES, CTConfig, CTDataConfig
from training.tasks.ct.data import _labels_of, _require_all_classes, make_dataset, make_loader
from training.tasks.ct.evaluation import load_ct_model, predict
from training.tasks.ct.task import CTTask, build_loss, build_model

log = logging.getLogger(__name__)

__all__ = ["calibrate_checkpoint", "train"]


def train(config: CTConfig, data_dir: str | Path, out_dir: str | Path) -> FitSummary:
    """Train a CT classifier, calibrate it on val, and write the run folder.

    Args:
        config: The validated CT config.
        data_dir: Dataset folder with ``manifest.csv``.
        out_dir: Run folder (``best``/``last`` checkpoints, ``config.yaml``, ``history.json``,
            ``train.log``, ``tb/``).

    Returns:
        The Trainer's summary.

    Raises:
        InputError: A split misses a CT class or the data cannot be read.
        ConfigError: Invalid model/loss settings.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    seed_everything(config.train.seed, config.train.deterministic)
    train_set = make_dataset(data_dir, config.data.train_split, config.data, train=True)
    val_set = make_dataset(data_dir, config.data.val_split, config.data, train=False)
    train_labels = _labels_of(train_set)
    _require_all_classes(train_labels, config.data.train_split, data_dir)
    _require_all_classes(_labels_of(val_set), config.data.val_split, data_dir)
    counts = np.bincount(train_labels, minlength=len(CLASS_NAMES))
    log.info("train class counts: %s", dict(zip(CLASS_NAMES, counts.tolist())))

    model = build_model(config.model)
    if config.model.init_from:
        state_dict, card = load_checkpoint(
            config.model.init_from, task="ct", architecture=config.model.architecture
        )
        load_state_dict_strict(model, state_dict, card)
        log.info("warm start from %s", config.model.init_from)
    loss_fn = build_loss(config.loss, counts)
    task = CTTask(model, loss_fn, config, dataset_fingerprint(data_dir))
    trainer = Trainer(task, config.train, out_dir, resolved_config=config)
    summary = trainer.fit(
        make_loader(train_set, config.data, config.train.seed, train=True),
        make_loader(val_set, config.data, config.train.seed, train=False),
    )
    if config.calibrate and summary.best_path is not None:
        calibrate_checkpoint(summary.best_path, val_set, config.data)
    return summary


def calibrate_checkpoint(checkpoint: str | Path, val_set: Dataset, cfg: CTDataConfig) -> dict[str, float]:
    """Fit the softmax temperature of a CT checkpoint on ``val_set`` and store it in its card.

    Returns:
        ``{"temperature", "ece_before", "ece_after"}`` (also written under ``metrics.calibration``).
    """
    model, card = load_ct_model(checkpoint)
    logits, labels = predict(model, make_loader(val_set, cfg, 0, train=False), card)
    temperature = fit_temperature(logits, labels)
    result = {
        "temperature": temperature,
        "ece_before": expected_calibration_error(softmax_with_temperature(logits), labels),
        "ece_after": expected_calibration_error(softmax_with_temperature(logits, temperature), labels),
    }
    metrics = dict(card.get("metrics") or {})
    metrics["calibration"] = {**result, "fitted_on": "val"}
    update_card(checkpoint, temperature=temperature, metrics=metrics)
    log.info(
        "temperature %.3f fitted on val: ECE %.4f -> %.4f",
        temperature,
        result["ece_before"],
        result["ece_after"],
    )
    return result
