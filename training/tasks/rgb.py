"""``train rgb`` / ``evaluate rgb``: the ConvAutoEncoder anomaly detector of seed 002 §2 and §2-1.

Recipe: the autoencoder learns to reconstruct *normal* photos only (defects in the train split
are dropped), with an MSE loss, through the shared :class:`training.loop.Trainer`. With
``corrupt.p > 0`` it is a denoising autoencoder: the input is a normal photo with synthetic
stains/strokes/spots drawn on it (:mod:`training.anomaly.corruptions`) and the target the clean
photo, so it learns to remove what does not look normal; a DRAEM model's head also learns to
segment the drawn corruptions (BCE, plus soft Dice with ``corrupt.dice``). With ``data.crop`` the
photo is first cut down to the battery (:class:`training.anomaly.RGBCrop`, the same crop at run
time) and the corruptions are drawn inside the battery box. Each epoch is
validated on the normals *and* defects of the val split: the monitor is the val ROC-AUC of the
anomaly score. After training, the best weights score the val split once more and
:func:`training.anomaly.youden_threshold` picks the threshold there (never on train, never on
test); the card stores it with the score method and the statistics the runtime needs, and the
test split, if present, is scored with that fixed threshold.

Example::

    python -m inspector train rgb --config training/configs/rgb_draem.yaml --data data/seed0 --out runs/rgb
    python -m inspector evaluate rgb --checkpoint runs/rgb/best.safetensors --data data/seed1 \
        --json runs/rgb/eval.json --report runs/rgb/report
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import nn
from torch.utils.data import DataLoader, Dataset

from core.checkpoint import save_checkpoint
from core.errors import ConfigError, InputError
from core.imageio import load_image
from core.preprocessing import RGBCrop
from inspector.anomaly import AnomalyDetector, ScoreConfig, anomaly_scores, error_map, gaussian_blur
from models.rgb_ae import create_model
from training.anomaly import (
    CorruptionConfig,
    ThresholdError,
    binary_metrics,
    check_scores,
    corrupt_batch,
    youden_threshold,
)
from training.config import TrainConfig, load_config, param, to_dict
from training.losses.localisation import soft_dice_loss
from training.tasks import Task

log = logging.getLogger(__name__)

__all__ = [
    "RGBAnomalyTask",
    "RGBConfig",
    "RGBImages",
    "evaluate_checkpoint",
    "evaluate_from_cli",
    "score_dataset",
    "train",
    "train_from_cli",
]

CLASS_NAMES = ["normal", "defect"]


# --------------------------------------------------------------------------------------------------
# config


@dataclass
class AEModelConfig:
    """Which autoencoder to build (:func:`models.rgb_ae.create_model`)."""

    architecture: str = "conv_ae_compact"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class RGBDataConfig:
    """Data loading for the autoencoder."""

    input_size: int = param(128, ge=16, le=1024, help="square model input side")
    batch_size: int = param(16, gt=0)
    num_workers: int = param(0, ge=0)
    hflip: bool = False  # random horizontal flips of the training normals
    rot90: bool = False  # random quarter turns and vertical flips too (batteries lie any way round)
    crop: bool = False  # cut the battery out of the photo first (core.preprocessing.rgb_crop)
    crop_margin: float = param(0.08, ge=0.0, le=1.0, help="battery crop margin (share of its long side)")
    train_split: str = "train"
    val_split: str = "val"
    test_split: str = "test"
    limit: int | None = param(None, gt=0, help="use at most N images per split (smoke tests)")


@dataclass
class RGBConfig:
    """Top-level ``rgb_*.yaml`` schema."""

    model: AEModelConfig = field(default_factory=AEModelConfig)
    data: RGBDataConfig = field(default_factory=RGBDataConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    corrupt: CorruptionConfig = field(default_factory=CorruptionConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def data_crop(data: RGBDataConfig) -> RGBCrop:
    """The photo-to-input crop a data config asks for."""
    return RGBCrop(data.input_size, data.crop_margin, enabled=data.crop)


# --------------------------------------------------------------------------------------------------
# data


class RGBImages(Dataset):
    """RGB rows of a dataset split, cropped and resized exactly as :class:`AnomalyDetector` does at run time.

    Images are decoded once (through :func:`core.imageio.load_image`) and kept as uint8
    arrays at model resolution, so every epoch after the first costs no decoding.

    Args:
        data_dir: Dataset folder with ``manifest.csv``.
        split: Manifest split to read (``"all"``: every RGB row, e.g. a dataset from an unseen seed).
        crop: The :class:`~training.anomaly.RGBCrop` (its ``size`` is the model input side); an
            ``int`` resizes the whole photo to that side.
        normals_only: Keep only ``is_defect == 0`` rows (the training set of the autoencoder).
        limit: Keep at most this many rows (first rows of the split, after filtering).
        hflip: Randomly flip images horizontally (training augmentation).
        rot90: Randomly turn images by quarter turns and flip them vertically too.

    Items are ``{"image": FloatTensor[3, S, S] in [0, 1], "region": FloatTensor[1, S, S] (the
    battery box, where synthetic defects are drawn), "is_defect": int, "label": str, "path": str}``.

    Raises:
        InputError: The split has no RGB rows.
    """

    def __init__(
        self,
        data_dir: str | Path,
        split: str,
        crop: RGBCrop | int,
        normals_only: bool = False,
        limit: int | None = None,
        hflip: bool = False,
        rot90: bool = False,
    ) -> None:
        from core.manifest import read_manifest

        self.root = Path(data_dir)
        frame = read_manifest(self.root, check_files=False)
        rows = frame[(frame["modality"] == "rgb") & ((frame["split"] == split) | (split == "all"))]
        if normals_only:
            rows = rows[rows["is_defect"] == 0]
        if limit is not None:
            rows = rows.head(limit)
        if rows.empty:
            kind = "normal RGB" if normals_only else "RGB"
            raise InputError(f"{self.root} has no {kind} images in split {split!r}.")
        self.paths = rows["image_path"].tolist()
        self.labels = rows["label"].tolist()
        self.is_defect = rows["is_defect"].astype(int).tolist()
        self.crop = crop if isinstance(crop, RGBCrop) else RGBCrop(int(crop), enabled=False)
        self.input_size = self.crop.size
        self.hflip = hflip
        self.rot90 = rot90
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The uint8 ``S x S x 3`` model view of row ``index`` and its battery-box region (cached)."""
        if index not in self._cache:
            view, _, region = self.crop(load_image(self.root / self.paths[index], "rgb"))
            self._cache[index] = (view, region)
        return self._cache[index]

    def __getitem__(self, index: int) -> dict[str, Any]:
        image, region = self.load(index)
        if self.rot90:
            turns = int(torch.randint(4, ()))
            image, region = np.rot90(image, turns), np.rot90(region, turns)
            if torch.rand(()) < 0.5:
                image, region = image[::-1], region[::-1]
        if (self.hflip or self.rot90) and torch.rand(()) < 0.5:
            image, region = image[:, ::-1], region[:, ::-1]
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)
        return {
            "image": tensor,
            "region": torch.from_numpy(np.ascontiguousarray(region))[None],
            "is_defect": self.is_defect[index],
            "label": self.labels[index],
            "path": self.paths[index],
        }


# --------------------------------------------------------------------------------------------------
# task


class RGBAnomalyTask(Task):
    """Reconstruction training on normals; validation by ROC-AUC and Youden's J on normals + defects.

    Args:
        model: Autoencoder ``[B, 3, S, S] -> [B, 3, S, S]``.
        config: The full :class:`RGBConfig` (model, data, score sections go into the card).
        data_fingerprint: Fingerprint of the training dataset, for the card.
    """

    name = "rgb"
    monitor = ("roc_auc", "max")

    def __init__(self, model: nn.Module, config: RGBConfig, data_fingerprint: Any = None) -> None:
        self.model = model
        self.config = config
        self.data_fingerprint = data_fingerprint
        self.threshold: float | None = None
        self.score_stats: dict[str, float] = {}

    def training_step(self, batch: Mapping[str, Any], epoch_progress: float) -> dict[str, Any]:
        clean = batch["image"]
        if self.config.corrupt.p <= 0:
            return {"loss": F.mse_loss(self.model(clean), clean)}
        # denoising: reconstruct the clean normal image from a synthetically corrupted copy,
        # with the corrupted pixels weighted up so that removing them is learnt early
        corrupted, mask = corrupt_batch(clean, self.config.corrupt, regions=batch.get("region"))
        weight = self.config.corrupt.weight
        reconstruction = self.model(corrupted)
        squared = (reconstruction - clean).pow(2)
        out = {"mse": squared.detach().mean(), "loss": (squared * (1.0 + weight * mask)).mean()}
        if hasattr(self.model, "segment"):  # DRAEM: the head learns where the corruptions are
            logits = self.model.segment(corrupted, reconstruction.detach())
            pos_weight = torch.tensor(max(weight, 1.0), device=logits.device)
            out["seg_loss"] = F.binary_cross_entropy_with_logits(logits, mask, pos_weight=pos_weight)
            if self.config.corrupt.dice > 0:
                out["dice_loss"] = soft_dice_loss(torch.sigmoid(logits), mask)
                out["seg_loss"] = out["seg_loss"] + self.config.corrupt.dice * out["dice_loss"]
            out["loss"] = out["loss"] + out["seg_loss"]
        return out

    def validation_step(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        return score_batch(self.model, batch, self.config.score)

    def validation_end(self, outputs: list[dict[str, Any]]) -> dict[str, float]:
        scored = _concat(outputs)
        labels, scores = scored["is_defect"], scored["score"]
        check_scores(labels, scores, "the validation split")
        metrics = {
            "roc_auc": float(roc_auc_score(labels, scores)),
            "normal_mse": float(scored["mse"][labels == 0].mean()),
            "defect_mse": float(scored["mse"][labels == 1].mean()),
        }
        try:
            result = youden_threshold(labels, scores, split="the validation split")
        except ThresholdError as exc:  # an untrained model early on: no threshold yet, keep going
            log.warning("no threshold this epoch: %s", exc)
            self.threshold = None
            return metrics
        self.threshold = result.threshold
        self.score_stats = score_statistics(labels, scores, scored["peak"])
        return {**metrics, "threshold": result.threshold, "youden_j": result.youden_j}

    def card(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "task": "rgb",
            "architecture": cfg.model.architecture,
            "model_kwargs": dict(cfg.model.kwargs),
            "class_names": CLASS_NAMES,
            "input_size": cfg.data.input_size,
            "preprocessing": data_crop(cfg.data).to_card(),
            "normalisation": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
            "threshold": self.threshold,
            "threshold_method": "youden_j_on_val",
            "score_method": asdict(cfg.score),
            "score_stats": dict(self.score_stats),
            "config": to_dict(cfg),
            "seed": cfg.train.seed,
            "data_fingerprint": self.data_fingerprint,
        }


def score_statistics(labels: np.ndarray, scores: np.ndarray, peaks: np.ndarray) -> dict[str, float]:
    """What the runtime needs besides the threshold, from validation scores.

    Returns:
        ``normal_mean/std``, ``defect_mean/std`` of the scores; ``score_scale`` (the logistic
        scale of :func:`training.anomaly.defect_probability`: the normal scores' std); and
        ``error_scale`` (95th percentile over normal images of the peak smoothed pixel error).
    """
    normal, defect = scores[labels == 0], scores[labels == 1]
    stats = {
        "normal_mean": float(normal.mean()),
        "normal_std": float(normal.std()),
        "defect_mean": float(defect.mean()) if defect.size else None,
        "defect_std": float(defect.std()) if defect.size else None,
        "score_scale": float(max(normal.std(), 1e-8)),
        "error_scale": float(max(np.percentile(peaks[labels == 0], 95), 1e-8)),
    }
    return {k: v for k, v in stats.items() if v is not None}


# --------------------------------------------------------------------------------------------------
# scoring


def score_batch(model: nn.Module, batch: Mapping[str, Any], score: ScoreConfig) -> dict[str, torch.Tensor]:
    """Score one batch: ``score`` (the anomaly score), ``peak`` (max of the smoothed error map),
    ``mse`` (mean squared error) and ``is_defect``, all on the CPU.
    """
    image = batch["image"]
    reconstruction = model(image)
    mse = error_map(image, reconstruction, "mse")
    if hasattr(model, "anomaly_map"):
        errors = model.anomaly_map(image)
    else:
        errors = mse if score.metric == "mse" else error_map(image, reconstruction, score.metric)
    smoothed = gaussian_blur(errors, score.smooth_sigma)
    return {
        "score": anomaly_scores(errors, score).double().cpu(),
        "peak": smoothed.flatten(1).amax(dim=1).double().cpu(),
        "mse": mse.flatten(1).mean(dim=1).double().cpu(),
        "is_defect": torch.as_tensor(batch["is_defect"]).long().cpu(),
    }


def _concat(outputs: list[dict[str, torch.Tensor]]) -> dict[str, np.ndarray]:
    return {key: torch.cat([o[key] for o in outputs]).numpy() for key in outputs[0]}


@torch.no_grad()
def score_dataset(
    model: nn.Module, dataset: RGBImages, score: ScoreConfig, batch_size: int = 32
) -> dict[str, np.ndarray]:
    """Score every image of ``dataset`` with ``model`` in eval mode.

    Returns:
        Arrays ``score``, ``peak``, ``mse``, ``is_defect`` (see :func:`score_batch`) and ``label``.
    """
    model.eval()
    device = next(model.parameters()).device
    outputs = []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        batch["image"] = batch["image"].to(device)
        outputs.append(score_batch(model, batch, score))
    return {**_concat(outputs), "label": np.asarray(dataset.labels)}


def per_type_recall(labels: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Share of images of each RGB label called defective (for ``normal``: called normal)."""
    out = {}
    for name in sorted(set(labels.tolist())):
        chosen = labels == name
        rate = float(predicted[chosen].mean())
        out[name] = 1.0 - rate if name == "normal" else rate
    return out


def evaluate_checkpoint(
    checkpoint: str | Path,
    data_dir: str | Path,
    split: str = "test",
    limit: int | None = None,
    report_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Score a split with a trained checkpoint and its stored (val-chosen) threshold.

    Returns:
        The contract keys ``roc_auc, threshold, accuracy, f1, defect_recall, normal_recall`` plus
        ``precision``, ``n_images``, ``n_normal``, ``n_defect``, ``confusion_matrix``,
        ``per_type_recall`` ({label: recall}), ``score_stats``, ``split`` and ``checkpoint``.

    Raises:
        CheckpointError: Missing or mismatched checkpoint.
        ThresholdError: The card has no finite threshold.
        InputError: The split has no RGB images.
    """
    detector = AnomalyDetector.from_checkpoint(str(checkpoint))
    dataset = RGBImages(data_dir, split, detector.crop, limit=limit)
    scored = score_dataset(detector.model, dataset, detector.score)
    metrics = binary_metrics(scored["is_defect"], scored["score"], detector.threshold)
    predicted = scored["score"] > detector.threshold
    metrics["per_type_recall"] = per_type_recall(scored["label"], predicted)
    metrics["score_stats"] = {
        "normal_mean": _mean(scored["score"][scored["is_defect"] == 0]),
        "defect_mean": _mean(scored["score"][scored["is_defect"] == 1]),
    }
    metrics.update(split=split, checkpoint=str(checkpoint), score_method=asdict(detector.score))
    if report_dir is not None:
        write_report(report_dir, scored, metrics)
    return metrics


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


# --------------------------------------------------------------------------------------------------
# training


def _loader(dataset: Dataset, cfg: RGBDataConfig, shuffle: bool, seed: int) -> DataLoader:
    from training.loop import make_generator, seed_worker

    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        shuffle=shuffle,
        num_workers=cfg.num_workers,
        drop_last=shuffle and len(dataset) > cfg.batch_size,
        generator=make_generator(seed),
        worker_init_fn=seed_worker,
    )


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


# --------------------------------------------------------------------------------------------------
# report


def write_report(out_dir: str | Path, scored: Mapping[str, np.ndarray], metrics: Mapping[str, Any]) -> Path:
    """Write ``score_histogram.png`` (normal vs defect, threshold marked), ``roc.png`` and ``report.md``.

    Args:
        out_dir: Report folder; created if missing.
        scored: Output of :func:`score_dataset`.
        metrics: Output of :func:`evaluate_checkpoint` (before the report is written).

    Returns:
        Path of ``report.md``.
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    from training.reports.figures import save_figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores, labels, names = scored["score"], scored["is_defect"], scored["label"]
    threshold = float(metrics["threshold"])

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    bins = np.histogram_bin_edges(scores, bins=40)
    ax.hist(scores[labels == 0], bins=bins, alpha=0.6, label=f"normal (n={int((labels == 0).sum())})")
    for name in sorted(set(names[labels == 1].tolist())):
        chosen = names == name
        ax.hist(
            scores[chosen],
            bins=bins,
            alpha=0.5,
            histtype="stepfilled",
            label=f"{name} (n={int(chosen.sum())})",
        )
    ax.axvline(threshold, color="k", ls="--", lw=1.5, label=f"threshold {threshold:.4g}")
    ax.set_xlabel("anomaly score")
    ax.set_ylabel("images")
    ax.set_title("RGB anomaly scores: normal vs defect")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out_dir / "score_histogram.png")

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    if metrics.get("roc_auc") is not None:
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, lw=2, label=f"AUC {metrics['roc_auc']:.4f}")
        op_fpr, op_tpr = 1.0 - (metrics["normal_recall"] or 0.0), metrics["defect_recall"] or 0.0
        ax.plot([op_fpr], [op_tpr], "ko", label="val-chosen threshold")
        ax.legend(loc="lower right")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC: defect vs normal")
    fig.tight_layout()
    save_figure(fig, out_dir / "roc.png")

    def fmt(value: Any) -> str:
        return "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)

    rows = [
        ("Checkpoint", metrics.get("checkpoint")),
        ("Split", metrics.get("split")),
        (
            "Images (normal / defect)",
            f"{metrics['n_images']} ({metrics['n_normal']} / {metrics['n_defect']})",
        ),
        ("Score method", json.dumps(metrics.get("score_method"))),
        ("Threshold (chosen on validation)", fmt(threshold)),
        ("ROC-AUC", fmt(metrics.get("roc_auc"))),
        ("Accuracy", fmt(metrics["accuracy"])),
        ("F1", fmt(metrics["f1"])),
        ("Defect recall", fmt(metrics["defect_recall"])),
        ("Normal recall", fmt(metrics["normal_recall"])),
    ]
    (tn, fp), (fn, tp) = metrics["confusion_matrix"]
    lines = [
        "# RGB anomaly detection report",
        "",
        "| Item | Value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
        "## Recall per RGB label",
        "",
        "| Label | Recall | Images |",
        "|---|---|---|",
        *(
            f"| {name} | {fmt(rate)} | {int((names == name).sum())} |"
            for name, rate in metrics["per_type_recall"].items()
        ),
        "",
        "For `normal` the recall is the share called normal; for defect labels, the share called defective.",
        "",
        "## Confusion matrix",
        "",
        "| | predicted normal | predicted defect |",
        "|---|---|---|",
        f"| **normal** | {tn} | {fp} |",
        f"| **defect** | {fn} | {tp} |",
        "",
        "![Score histogram](score_histogram.png)",
        "",
        "![ROC](roc.png)",
        "",
    ]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
