"""RGB task training: fit the autoencoder, choose the threshold on val, score test."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from torch import nn

from core.checkpoint import save_checkpoint
from core.errors import ConfigError, InputError
from models.rgb_ae import create_model
from training.anomaly import ThresholdError, binary_metrics, youden_threshold
from training.tasks.rgb.config import RGBConfig, data_crop
from training.tasks.rgb.data import RGBImages, _loader
from training.tasks.rgb.scoring import per_type_recall, score_dataset
from training.tasks.rgb.task import RGBAnomalyTask, score_statistics

log = logging.getLogger(__name__)

__all__ = ["train"]


def train(config: RGBConfig, data_dir: str | Path, out_dir: str | Path) -> dict[str, Any]:
    """Train the autoencoder, choose the threshold on val, score test; write ``out_dir/best.*``.

    Returns:
        ``{"checkpoint": path, "threshold": float, "val": {...}, "test": {...} or None}``.

    Raises:
        ConfigError: Unknown architecture/option or an input size the model cannot take.
        ThresholdError: The validation split cannot give an honest threshold.
    """
    from core.checkpoint import load_checkpoint, load_state_dict_strict
    from training.fingerprint import dataset_fingerprint
    from training.loop import Trainer, seed_everything

    seed_everything(config.train.seed, config.train.deterministic)
    out_dir = Path(out_dir)
    model = create_model(config.model.architecture, **config.model.kwargs)
    factor = getattr(model, "downsample_factor", 1)
    if config.data.input_size % factor:
        raise ConfigError(
            f"data.input_size {config.data.input_size} must be a multiple of {factor} for "
            f"{config.model.architecture!r}."
        )
    if hasattr(model, "segment") and config.corrupt.p <= 0:
        raise ConfigError(
            f"{config.model.architecture!r} learns from synthetic corruptions: set corrupt.p > 0."
        )
    d = config.data
    crop = data_crop(d)
    train_set = RGBImages(
        data_dir, d.train_split, crop, normals_only=True, limit=d.limit, hflip=d.hflip, rot90=d.rot90
    )
    val_set = RGBImages(data_dir, d.val_split, crop, limit=d.limit)
    log.info("rgb autoencoder: %d normal training images, %d validation images", len(train_set), len(val_set))
    task = RGBAnomalyTask(model, config, data_fingerprint=dataset_fingerprint(data_dir))
    trainer = Trainer(task, config.train, out_dir, resolved_config=config)
    summary = trainer.fit(
        _loader(train_set, d, shuffle=True, seed=config.train.seed),
        _loader(val_set, d, shuffle=False, seed=config.train.seed),
    )
    if summary.best_path is None:
        raise ThresholdError("no epoch produced a usable validation ROC-AUC; nothing to save.")

    # Final, honest threshold: the best weights exactly as stored (fp16 included), scored once
    # more on val only; test is scored afterwards with that threshold fixed.
    state_dict, _ = load_checkpoint(summary.best_path, task="rgb")
    load_state_dict_strict(model, state_dict, task.card())
    model.float()
    val = score_dataset(model, val_set, config.score, d.batch_size)
    chosen = youden_threshold(val["is_defect"], val["score"], split=f"the {d.val_split!r} split")
    task.threshold = chosen.threshold
    task.score_stats = score_statistics(val["is_defect"], val["score"], val["peak"])
    metrics: dict[str, Any] = {"epoch": summary.best_epoch, "val": chosen.to_dict()}
    test = _score_test(model, config, data_dir, chosen.threshold)
    if test is not None:
        metrics["test"] = test
    card = {**task.card(), "metrics": metrics}
    # the weights already hold their stored values, so re-saving in the same dtype is lossless
    weights = save_checkpoint(model, out_dir / "best", card, fp16=config.train.checkpoint_dtype == "float16")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    log.info(
        "rgb: val ROC-AUC %.4f, threshold %.6g (J %.3f)%s",
        chosen.roc_auc, chosen.threshold, chosen.youden_j,
        f"; test ROC-AUC {test['roc_auc']:.4f}, accuracy {test['accuracy']:.4f}" if test and test["roc_auc"] else "",
    )  # fmt: skip
    return {"checkpoint": str(weights), "threshold": chosen.threshold, **metrics}


def _score_test(model: nn.Module, config: RGBConfig, data_dir: str | Path, threshold: float) -> dict | None:
    try:
        test_set = RGBImages(
            data_dir, config.data.test_split, data_crop(config.data), limit=config.data.limit
        )
    except InputError:
        log.info("no %r split: skipping test metrics", config.data.test_split)
        return None
    scored = score_dataset(model, test_set, config.score, config.data.batch_size)
    metrics = binary_metrics(scored["is_defect"], scored["score"], threshold)
    metrics["per_type_recall"] = per_type_recall(scored["label"], scored["score"] > threshold)
    return metrics
