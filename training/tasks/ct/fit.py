"""CT task training: fit a classifier on the shared loop, then calibrate it on val."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset, Subset

from core.checkpoint import (
    load_checkpoint,
    load_matching_tensors,
    load_state_dict_strict,
    save_checkpoint,
    update_card,
)
from inspector.review import split_review_state
from training.fingerprint import dataset_fingerprint
from training.loop import FitSummary, Trainer, seed_everything
from training.metrics.calibration import (
    expected_calibration_error,
    fit_calibration,
    softmax_with_temperature,
)
from training.tasks.ct.config import CLASS_NAMES, CTConfig, CTDataConfig
from training.tasks.ct.data import _labels_of, _require_all_classes, data_dirs, make_dataset, make_loader
from training.tasks.ct.evaluation import load_ct_model, predict, predict_with_features
from training.tasks.ct.task import CTTask, build_loss, build_model

log = logging.getLogger(__name__)

__all__ = ["calibrate_checkpoint", "fit_review", "train"]


def train(config: CTConfig, data_dir: str | Path | Sequence[str | Path], out_dir: str | Path) -> FitSummary:
    """Train a CT classifier, calibrate it on val, and write the run folder.

    Args:
        config: The validated CT config.
        data_dir: Dataset folder with ``manifest.csv``, or several (trained on together).
        out_dir: Run folder (``best``/``last`` checkpoints, ``config.yaml``, ``history.json``,
            ``train.log``, ``tb/``).

    Returns:
        The Trainer's summary.

    Raises:
        InputError: A split misses a CT class or the data cannot be read.
        ConfigError: Invalid model/loss settings.
    """
    out_dir = Path(out_dir)
    dirs = data_dirs(data_dir)
    data_dir = dirs if len(dirs) > 1 else dirs[0]
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
            config.model.init_from,
            task="ct",
            architecture=None if config.model.init_partial else config.model.architecture,
        )
        state_dict, _ = split_review_state(state_dict)  # the old density does not fit the new model
        if config.model.init_partial:
            copied = load_matching_tensors(model, state_dict)
            log.info("warm start from %s: %d of %d tensors copied", config.model.init_from, copied, len(model.state_dict()))
        else:
            load_state_dict_strict(model, state_dict, card)
            log.info("warm start from %s", config.model.init_from)
    loss_fn = build_loss(config.loss, counts)
    fingerprints = [dataset_fingerprint(d) for d in dirs]
    task = CTTask(model, loss_fn, config, fingerprints[0] if len(dirs) == 1 else {"datasets": fingerprints})
    trainer = Trainer(task, config.train, out_dir, resolved_config=config)
    summary = trainer.fit(
        make_loader(train_set, config.data, config.train.seed, train=True),
        make_loader(val_set, config.data, config.train.seed, train=False),
    )
    if config.calibrate and summary.best_path is not None:
        calibrate_checkpoint(summary.best_path, val_set, config.data, config.calibration)
    if config.review.fit and summary.best_path is not None:
        fit_review(summary.best_path, make_dataset(data_dir, config.data.train_split, config.data, train=False), val_set, config)
    return summary


def fit_review(checkpoint: str | Path, train_set: Dataset, val_set: Dataset, config: CTConfig) -> dict[str, float]:
    """Fit the feature density of the "needs review" flag and store it with the checkpoint.

    Class Gaussians are fitted on (at most ``review.max_fit_images``) training slices without
    augmentation; the OOD threshold is ``review.margin`` times the ``review.quantile`` of the
    validation scores. The tensors go into the safetensors file (``review.*``), the threshold
    and policy into the card's ``review`` block.

    Returns:
        ``{"ood_threshold", "val_quantile", "val_flag_rate"}``.
    """
    from inspector.review import FeatureDensity

    cfg = config.review
    if len(train_set) > cfg.max_fit_images:
        idx = np.linspace(0, len(train_set) - 1, cfg.max_fit_images).round().astype(int)
        train_set = Subset(train_set, np.unique(idx).tolist())
    model, card = load_ct_model(checkpoint)
    _, train_labels, train_features = predict_with_features(model, make_loader(train_set, config.data, 0, train=False), card)
    density = FeatureDensity.fit(train_features, train_labels)
    _, _, val_features = predict_with_features(model, make_loader(val_set, config.data, 0, train=False), card)
    val_scores = density.score(val_features)
    quantile = float(np.quantile(val_scores, cfg.quantile))
    density.threshold = quantile * cfg.margin
    result = {
        "ood_threshold": density.threshold,
        "val_quantile": quantile,
        "val_flag_rate": float((val_scores > density.threshold).mean()),
    }
    state_dict, card = load_checkpoint(checkpoint)
    state_dict.update(density.state_dict())
    card["review"] = {
        **result,
        "quantile": cfg.quantile,
        "margin": cfg.margin,
        "low_margin": cfg.low_margin,
        "fitted_on": {"density": config.data.train_split, "threshold": config.data.val_split},
        "n_fit_images": int(len(train_labels)),
    }
    for key in ("dtype", "sha256", "n_parameters"):
        card.pop(key, None)
    save_checkpoint(state_dict, Path(checkpoint).with_suffix(""), card, fp16=False)
    log.info("review density: OOD threshold %.3f (val q%.2f %.3f x %.2f)", density.threshold, cfg.quantile, quantile, cfg.margin)
    return result


def calibrate_checkpoint(
    checkpoint: str | Path, val_set: Dataset, cfg: CTDataConfig, method: str = "temperature"
) -> dict[str, Any]:
    """Fit the softmax calibration of a CT checkpoint on ``val_set`` and store it in its card.

    Args:
        checkpoint: The CT checkpoint (its card is rewritten).
        val_set: Validation slices (evaluation transform).
        cfg: Data settings of the loader.
        method: A key of :data:`training.metrics.calibration.CALIBRATION_METHODS`.

    Returns:
        ``{"method", "temperature", "class_bias", "ece_before", "ece_after", "n_images"}`` (also
        written under ``metrics.calibration``).
    """
    model, card = load_ct_model(checkpoint)
    logits, labels = predict(model, make_loader(val_set, cfg, 0, train=False), card)
    calibration = fit_calibration(logits, labels, method)
    result = {
        "method": method,
        **calibration.card_fields(),
        "ece_before": expected_calibration_error(softmax_with_temperature(logits), labels),
        "ece_after": expected_calibration_error(calibration.probabilities(logits), labels),
        "n_images": int(labels.size),
    }
    metrics = dict(card.get("metrics") or {})
    metrics["calibration"] = {**result, "fitted_on": "val"}
    update_card(checkpoint, **calibration.card_fields(), metrics=metrics)
    log.info(
        "%s calibration fitted on val (T %.3f): ECE %.4f -> %.4f",
        method,
        calibration.temperature,
        result["ece_before"],
        result["ece_after"],
    )
    return result
