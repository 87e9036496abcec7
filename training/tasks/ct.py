"""CT slice classification: training, calibration and evaluation on the shared loop.

``python -m inspector train ct --config training/configs/ct_default.yaml --data D --out RUN``
trains a :mod:`models.ct_cnn` architecture with the four class-imbalance remedies of seed 002
(focal loss, class weights, ``WeightedRandomSampler``, label smoothing), then fits a softmax
temperature on the validation split and stores it in ``RUN/best.json``.

``python -m inspector evaluate ct --checkpoint RUN/best.safetensors --data D --split test
--json OUT [--report DIR]`` writes the contract metrics (``accuracy, macro_f1, roc_auc,
per_class, confusion_matrix, binary`` + ``ece_before, ece_after, temperature``) and, with
``--report``, a Markdown report with a confusion-matrix and a ROC figure.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from core.checkpoint import load_checkpoint, load_state_dict_strict, update_card
from core.errors import CheckpointError, ConfigError, InputError
from core.manifest import CT_LABELS
from training.config import DataConfig, LossConfig, ModelConfig, TrainConfig, load_config, param, to_dict
from training.fingerprint import dataset_fingerprint
from training.loop import FitSummary, Trainer, make_generator, seed_everything, seed_worker
from training.losses import create_loss
from training.metrics.calibration import (
    expected_calibration_error,
    fit_temperature,
    softmax_with_temperature,
)
from training.metrics.classification import classification_metrics
from training.tasks import Task, cli_entry_point

log = logging.getLogger(__name__)

__all__ = [
    "CTConfig",
    "CTDataConfig",
    "CTLossConfig",
    "CTTask",
    "evaluate",
    "evaluate_from_cli",
    "load_ct_model",
    "predict",
    "train",
    "train_from_cli",
]

CLASS_NAMES: tuple[str, ...] = tuple(CT_LABELS)


# --------------------------------------------------------------------------- config


@dataclass
class CTDataConfig(DataConfig):
    """CT data settings: the shared ones plus the intensity normalisation stored in the card."""

    mean: float = 0.5
    std: float = param(0.25, gt=0)


@dataclass
class CTLossConfig(LossConfig):
    """The shared loss settings plus the auxiliary coarse (normal/defect) loss of ``hierarchical``."""

    coarse_weight: float = param(0.0, ge=0, help="weight of the coarse-head loss (hierarchical models)")
    mask_weight: float = param(0.0, ge=0, help="weight of the auxiliary defect-mask loss (training only)")
    mask_pos_weight: float = param(5.0, gt=0, help="BCE weight of defect cells in the mask loss")

    def __post_init__(self) -> None:
        if self.coarse_weight > 0 and self.mask_weight > 0:
            raise ValueError("loss.coarse_weight and loss.mask_weight cannot be combined")


@dataclass
class CTConfig:
    """Top-level schema of ``training/configs/ct_*.yaml``."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: CTDataConfig = field(default_factory=CTDataConfig)
    loss: CTLossConfig = field(default_factory=CTLossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    calibrate: bool = True  # fit a softmax temperature on val after training


def load_ct_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> CTConfig:
    """Load and validate a CT config file (``overrides`` use dotted keys)."""
    return load_config(path, CTConfig, overrides)


# --------------------------------------------------------------------------- building blocks


def build_model(cfg: ModelConfig, num_classes: int = len(CLASS_NAMES)) -> nn.Module:
    """The configured architecture from the :mod:`models.ct_cnn` registry (grayscale input)."""
    from models.ct_cnn import create_model

    kwargs = dict(cfg.kwargs)
    if cfg.pretrained:
        kwargs["pretrained_path"] = cfg.pretrained
    return create_model(cfg.architecture, num_classes=num_classes, in_chans=1, **kwargs)


def class_weights(cfg: LossConfig, counts: Sequence[int]) -> list[float] | None:
    """Per-class loss weights: the configured list, ``"auto"`` (inverse frequency, mean 1) or none.

    Raises:
        ConfigError: A weight list whose length is not the number of classes.
    """
    if cfg.class_weights is None:
        return None
    if cfg.class_weights == "auto":
        from training.samplers import class_weights as inverse_frequency

        targets = np.repeat(np.arange(len(counts)), np.asarray(counts, dtype=np.int64))
        return [round(float(w), 4) for w in inverse_frequency(targets, len(counts))]
    if len(cfg.class_weights) != len(counts):
        raise ConfigError(
            f"config key 'loss.class_weights' has {len(cfg.class_weights)} values for {len(counts)} classes"
        )
    return list(cfg.class_weights)


def build_loss(cfg: LossConfig, counts: Sequence[int]) -> nn.Module:
    """The configured loss with its class weights resolved against the training counts."""
    kwargs: dict[str, Any] = {
        "label_smoothing": cfg.label_smoothing,
        "class_weights": class_weights(cfg, counts),
    }
    if cfg.gamma is not None:
        kwargs["gamma"] = cfg.gamma
    return create_loss(cfg.name, **kwargs)


def _labels_of(dataset: Dataset) -> np.ndarray:
    """Class index of every sample, read from the manifest rows (no image decoding)."""
    if isinstance(dataset, Subset):
        return _labels_of(dataset.dataset)[np.asarray(dataset.indices, dtype=np.int64)]
    return np.asarray(dataset.targets, dtype=np.int64)


def _require_all_classes(labels: np.ndarray, split: str, data_dir: Path) -> None:
    missing = [name for i, name in enumerate(CLASS_NAMES) if not (labels == i).any()]
    if missing:
        raise InputError(
            f"the {split} split of {data_dir} has no images of class {', '.join(missing)}; "
            f"every CT class must be present"
        )


def build_transform(cfg: CTDataConfig, train: bool) -> Any:
    """Paired CT transform: optional outline crop, resize (area), then the augmentation policy.

    ``data.augment`` is ``"ct"`` (seed 003 §5: flips, rotation, affine; never colour jitter or
    blur), ``"none"``, or a list of transform entries for :func:`training.transforms.build_transforms`.
    Evaluation never augments, so it matches :class:`inspector.predictors.ct.CTPredictor`.
    """
    from training.transforms import Compose, build_transforms, default_transforms

    policy = cfg.augment
    if not train or policy in ("ct", "none"):
        return default_transforms("ct", cfg.input_size, train=train and policy == "ct", crop=cfg.crop)
    if isinstance(policy, str):
        raise ConfigError(
            f"config key 'data.augment' must be 'ct', 'none' or a list of transforms, got {policy!r}"
        )
    return Compose(
        [default_transforms("ct", cfg.input_size, train=False, crop=cfg.crop), build_transforms(policy, "ct")]
    )


def make_dataset(data_dir: str | Path, split: str, cfg: CTDataConfig, train: bool) -> Dataset:
    """A CT dataset of one split (``"all"`` = every row) with the train or eval transform.

    Raises:
        InputError: A missing/broken manifest or an empty split.
    """
    from training.datasets import CTDataset

    dataset: Dataset = CTDataset(
        data_dir, split=None if split == "all" else split, transform=build_transform(cfg, train)
    )
    if len(dataset) == 0:
        raise InputError(f"the {split} split of {data_dir} has no CT images")
    if cfg.limit and len(dataset) > cfg.limit:
        # an evenly spaced subset of the manifest order keeps every class in play
        idx = np.linspace(0, len(dataset) - 1, cfg.limit).round().astype(int)
        dataset = Subset(dataset, np.unique(idx).tolist())
    return dataset


def make_loader(dataset: Dataset, cfg: CTDataConfig, seed: int, train: bool) -> DataLoader:
    """A DataLoader; the training one samples class-balanced when ``data.sampler: weighted``."""
    sampler = None
    if train and cfg.sampler == "weighted":
        from training.samplers import make_weighted_sampler

        sampler = make_weighted_sampler(
            _labels_of(dataset), power=cfg.sampler_power, generator=make_generator(seed)
        )
    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        shuffle=train and sampler is None,
        sampler=sampler,
        drop_last=train and len(dataset) > cfg.batch_size,  # BatchNorm1d heads need >= 2 per batch
        num_workers=cfg.num_workers,
        worker_init_fn=seed_worker if cfg.num_workers else None,
        generator=make_generator(seed + 1),
        persistent_workers=cfg.num_workers > 0,
    )


def _normalise(image: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return (image - mean) / std


# --------------------------------------------------------------------------- task


class CTTask(Task):
    """Five-class CT slice classification; monitors validation macro-F1.

    Args:
        model: A :mod:`models.ct_cnn` classifier, ``model(image, meta) -> logits``.
        loss_fn: ``loss_fn(logits, labels) -> scalar``.
        config: The full CT config (stored in the card).
        data_fingerprint: Fingerprint of the training dataset (stored in the card).
    """

    name = "ct"
    monitor = ("macro_f1", "max")

    def __init__(
        self,
        model: nn.Module,
        loss_fn: nn.Module,
        config: CTConfig,
        data_fingerprint: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.config = config
        self.data_fingerprint = dict(data_fingerprint or {})
        self.class_names = list(CLASS_NAMES)
        self._samples: dict[str, torch.Tensor] | None = None
        self.mask_head: nn.Module | None = None
        if config.loss.mask_weight > 0:
            self.mask_head = nn.Conv2d(_feature_channels(model), 1, kernel_size=1)

    def parameters(self) -> list[nn.Parameter]:
        """The model's parameters plus the training-only mask head (never saved)."""
        params = [p for p in self.model.parameters() if p.requires_grad]
        return params + (list(self.mask_head.parameters()) if self.mask_head is not None else [])

    def _logits(self, batch: Mapping[str, Any]) -> torch.Tensor:
        image = _normalise(batch["image"], self.config.data.mean, self.config.data.std)
        return self.model(image, batch.get("meta"))

    def training_step(self, batch: Mapping[str, Any], epoch_progress: float) -> dict[str, Any]:
        labels = batch["label"]
        coarse_weight = self.config.loss.coarse_weight
        if coarse_weight > 0 and hasattr(self.model, "forward_hierarchical"):
            image = _normalise(batch["image"], self.config.data.mean, self.config.data.std)
            out = self.model.forward_hierarchical(image, batch.get("meta"))
            coarse = F.cross_entropy(out.coarse_logits.float(), self.model.coarse_targets(labels))
            logits, extra = out.logits, {"coarse_loss": coarse.detach()}
            loss = self.loss_fn(logits, labels) + coarse_weight * coarse
        elif self.mask_head is not None:
            image = _normalise(batch["image"], self.config.data.mean, self.config.data.std)
            features = self.model.forward_features(image)
            logits = self.model.forward_head(features, batch.get("meta"))
            mask_loss = self._mask_loss(self.mask_head(features).float(), batch["mask"])
            loss = self.loss_fn(logits, labels) + self.config.loss.mask_weight * mask_loss
            extra = {"mask_loss": mask_loss.detach()}
        else:
            logits, extra = self._logits(batch), {}
            loss = self.loss_fn(logits, labels)
        accuracy = (logits.detach().argmax(1) == labels).float().mean()
        return {"loss": loss, "accuracy": accuracy, **extra}

    def _mask_loss(self, mask_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """BCE between the feature-grid mask logits and "this cell holds defect pixels".

        The defect mask is max-pooled to the feature map size, so a void of a few pixels marks
        its whole cell. This dense signal tells the backbone *where* the evidence is, which
        makes small voids learnable within a short CPU budget; the head is dropped after training.
        """
        target = F.adaptive_max_pool2d(mask.float(), mask_logits.shape[-2:])
        pos_weight = torch.tensor(self.config.loss.mask_pos_weight, device=mask_logits.device)
        return F.binary_cross_entropy_with_logits(mask_logits, target, pos_weight=pos_weight)

    def validation_step(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        if self._samples is None:  # a few fixed images for the TensorBoard attention maps
            k = self.config.train.tensorboard_images
            self._samples = {"image": batch["image"][:k].cpu(), "label": batch["label"][:k].cpu()}
            if batch.get("meta") is not None:
                self._samples["meta"] = batch["meta"][:k].cpu()
        logits = self._logits(batch).float()
        return {"logits": logits.cpu(), "label": batch["label"].cpu()}

    def validation_end(self, outputs: list[dict[str, Any]]) -> dict[str, float]:
        logits = torch.cat([o["logits"] for o in outputs])
        labels = torch.cat([o["label"] for o in outputs])
        loss = float(self.loss_fn(logits.to(_device_of(self.loss_fn)), labels.to(_device_of(self.loss_fn))))
        report = classification_metrics(labels.numpy(), torch.softmax(logits, 1).numpy(), self.class_names)
        self._last_report = report
        metrics = {
            "loss": loss,
            "accuracy": report["accuracy"],
            "macro_f1": report["macro_f1"],
            "roc_auc": report["roc_auc"] if report["roc_auc"] is not None else float("nan"),
            "defect_recall": report["binary"]["defect_recall"],
        }
        metrics.update({f"f1_{name}": row["f1"] for name, row in report["per_class"].items()})
        return metrics

    def card(self) -> dict[str, Any]:
        cfg = self.config
        kwargs = dict(cfg.model.kwargs)  # pretrained weights are already inside the checkpoint
        return {
            "task": "ct",
            "architecture": cfg.model.architecture,
            "model_kwargs": kwargs,
            "class_names": self.class_names,
            "input_size": cfg.data.input_size,
            "normalisation": {"mean": [cfg.data.mean], "std": [cfg.data.std]},
            "preprocessing": {"crop": "battery_outline" if cfg.data.crop else None, "resize": "area"},
            "uses_meta": bool(getattr(self.model, "uses_meta", False)),
            "threshold": None,
            "temperature": 1.0,
            "config": to_dict(cfg),
            "seed": cfg.train.seed,
            "data_fingerprint": self.data_fingerprint,
        }

    def log_epoch(
        self, writer: Any, epoch: int, outputs: list[dict[str, Any]], metrics: Mapping[str, float]
    ) -> None:
        from training.reports.figures import confusion_matrix_figure

        report = getattr(self, "_last_report", None)
        if report is not None:
            fig = confusion_matrix_figure(report["confusion_matrix"], self.class_names, f"val, epoch {epoch}")
            writer.add_figure("val/confusion_matrix", fig, epoch)
        if self._samples is not None and self.config.train.tensorboard_images:
            self._log_attention(writer, epoch)

    def _log_attention(self, writer: Any, epoch: int) -> None:
        try:
            from inspector.explain import create_explainer
        except ImportError:
            log.debug("inspector.explain is not available; no Grad-CAM images in TensorBoard")
            return
        explainer = create_explainer("gradcam")
        device = next(self.model.parameters()).device
        was_training = self.model.training
        self.model.eval()
        panels = []
        try:
            for i in range(self._samples["image"].shape[0]):
                image = self._samples["image"][i : i + 1].to(device)
                meta = self._samples["meta"][i : i + 1].to(device) if "meta" in self._samples else None
                heat = explainer.explain(
                    self.model,
                    _normalise(image, self.config.data.mean, self.config.data.std),
                    meta,
                    int(self._samples["label"][i]),
                )
                gray = image[0, 0].cpu().numpy()
                heat = np.asarray(heat, dtype=np.float32)
                panels.append(np.stack([np.clip(0.5 * gray + 0.5 * heat, 0, 1), gray, gray * (1 - heat)]))
        finally:
            self.model.train(was_training)
        if panels:
            writer.add_images("val/gradcam", np.stack(panels), epoch, dataformats="NCHW")


@torch.no_grad()
def _feature_channels(model: nn.Module) -> int:
    """Channels of ``model.forward_features`` (read from the model, else probed with a dummy image)."""
    channels = getattr(model, "num_features", None)
    if isinstance(channels, int):
        return channels
    was_training = model.training
    model.eval()
    try:
        return int(model.forward_features(torch.zeros(1, 1, 64, 64)).shape[1])
    finally:
        model.train(was_training)


def _device_of(module: nn.Module) -> torch.device:
    buffers = list(module.buffers())
    return buffers[0].device if buffers else torch.device("cpu")


# --------------------------------------------------------------------------- training


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


train_from_cli = cli_entry_point("ct", load_ct_config, train, report="best")


# --------------------------------------------------------------------------- inference + evaluation


def load_ct_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Build the CT model a checkpoint card describes and load its weights (float32, eval mode).

    Raises:
        CheckpointError: Missing files, a non-CT checkpoint, or weights of another architecture.
    """
    state_dict, card = load_checkpoint(path, task="ct")
    if not card.get("architecture"):
        raise CheckpointError(f"checkpoint {path} has no architecture in its card")
    try:
        model = build_model(
            ModelConfig(architecture=card["architecture"], kwargs=dict(card.get("model_kwargs") or {})),
            num_classes=len(card.get("class_names") or CLASS_NAMES),
        )
    except ConfigError as exc:
        raise CheckpointError(f"checkpoint {Path(path).name} cannot be built: {exc}") from exc
    load_state_dict_strict(model, state_dict, card)
    return model.float().to(device).eval(), card


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, card: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels of every batch in ``loader``, normalised as the card says.

    Returns:
        ``(logits [N, C] float64, labels [N] int64)``.
    """
    device = next(model.parameters()).device
    norm = card.get("normalisation") or {}
    mean = float(np.asarray(norm.get("mean", 0.0)).reshape(-1)[0])
    std = float(np.asarray(norm.get("std", 1.0)).reshape(-1)[0])
    uses_meta = card.get("uses_meta", True)
    all_logits, all_labels = [], []
    for batch in loader:
        image = _normalise(batch["image"].to(device), mean, std)
        meta = batch["meta"].to(device) if uses_meta and batch.get("meta") is not None else None
        all_logits.append(model(image, meta).float().cpu())
        all_labels.append(batch["label"])
    return torch.cat(all_logits).double().numpy(), torch.cat(all_labels).numpy()


def _data_config_from_card(card: Mapping[str, Any], batch_size: int = 64) -> CTDataConfig:
    data = dict((card.get("config") or {}).get("data") or {})
    norm = card.get("normalisation") or {}
    return CTDataConfig(
        input_size=int(card.get("input_size") or data.get("input_size") or 160),
        batch_size=batch_size,
        crop=bool((card.get("preprocessing") or {}).get("crop")),
        mean=float(np.asarray(norm.get("mean", 0.5)).reshape(-1)[0]),
        std=float(np.asarray(norm.get("std", 0.25)).reshape(-1)[0]),
        sampler="none",
        augment="none",
    )


def evaluate(
    checkpoint: str | Path,
    data_dir: str | Path,
    split: str = "test",
    report_dir: str | Path | None = None,
    limit: int | None = None,
    calibration_split: str | None = "val",
) -> dict[str, Any]:
    """Evaluate a CT checkpoint on one split of a dataset.

    Args:
        checkpoint: ``NAME.safetensors`` (with ``NAME.json``).
        data_dir: Dataset folder.
        split: Manifest split, or ``"all"`` for every row.
        report_dir: If given, write ``report.md``, ``confusion_matrix.png`` and ``roc.png`` there.
        limit: Evaluate at most this many images (evenly spaced over the split).
        calibration_split: Split used to fit a temperature when the card has none fitted
            (``None`` = use the card's temperature as is).

    Returns:
        Contract metrics: ``accuracy, macro_f1, roc_auc, per_class, confusion_matrix, binary``
        plus ``ece_before, ece_after, temperature, n_images, split, checkpoint``.

    Raises:
        CheckpointError: Bad or mismatching checkpoint.
        InputError: Unreadable data, or a split missing a CT class.
    """
    data_dir = Path(data_dir)
    model, card = load_ct_model(checkpoint)
    class_names = list(card.get("class_names") or CLASS_NAMES)
    cfg = _data_config_from_card(card)
    cfg.limit = limit
    dataset = make_dataset(data_dir, split, cfg, train=False)
    _require_all_classes(_labels_of(dataset), split, data_dir)
    logits, labels = predict(model, make_loader(dataset, cfg, 0, train=False), card)

    calibration = (card.get("metrics") or {}).get("calibration")
    temperature = float(card.get("temperature") or 1.0)
    if calibration is None and calibration_split and calibration_split != split:
        val_set = make_dataset(data_dir, calibration_split, cfg, train=False)
        val_logits, val_labels = predict(model, make_loader(val_set, cfg, 0, train=False), card)
        temperature = fit_temperature(val_logits, val_labels)
        log.info("card has no fitted temperature; fitted %.3f on %s", temperature, calibration_split)
    probs_raw = softmax_with_temperature(logits)
    probs = softmax_with_temperature(logits, temperature)
    metrics = classification_metrics(labels, probs, class_names)
    metrics.update(
        ece_before=expected_calibration_error(probs_raw, labels),
        ece_after=expected_calibration_error(probs, labels),
        temperature=temperature,
        split=split,
        checkpoint=str(checkpoint),
        architecture=card.get("architecture"),
    )
    if report_dir is not None:
        from training.reports import write_classification_report

        context = {
            "Checkpoint": f"`{Path(checkpoint).name}` ({card.get('architecture')})",
            "Data": f"`{data_dir}` split `{split}`",
        }
        write_classification_report(
            metrics, class_names, report_dir, labels, probs, title="CT classification report", context=context
        )
    return metrics


def evaluate_from_cli(args: argparse.Namespace) -> dict[str, Any]:
    """Entry point of ``python -m inspector evaluate ct`` (returns the JSON the command writes)."""
    if not args.checkpoint:
        raise InputError("evaluate ct needs --checkpoint NAME.safetensors")
    return evaluate(
        args.checkpoint, args.data, args.split, getattr(args, "report", None), getattr(args, "limit", None)
    )
