"""CT task: the model and loss builders and :class:`CTTask` (what one batch means)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError
from training.config import LossConfig, ModelConfig
from training.losses import create_loss
from training.metrics.classification import classification_metrics
from training.tasks import Task
from training.tasks.common import normalise, provenance
from training.tasks.ct.config import CLASS_NAMES, CTConfig

log = logging.getLogger(__name__)

__all__ = ["CTTask", "build_loss", "build_model", "class_weights"]


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
        self.dense_mask = config.loss.mask_weight > 0
        if self.dense_mask and not hasattr(model, "mask_logits"):  # models with their own head keep it
            self.mask_head = nn.Conv2d(_feature_channels(model), 1, kernel_size=1)

    def parameters(self) -> list[nn.Parameter]:
        """The model's parameters plus the training-only mask head (never saved)."""
        params = [p for p in self.model.parameters() if p.requires_grad]
        return params + (list(self.mask_head.parameters()) if self.mask_head is not None else [])

    def _logits(self, batch: Mapping[str, Any]) -> torch.Tensor:
        image = normalise(batch["image"], self.config.data.mean, self.config.data.std)
        return self.model(image, batch.get("meta"))

    def training_step(self, batch: Mapping[str, Any], epoch_progress: float) -> dict[str, Any]:
        labels = batch["label"]
        coarse_weight = self.config.loss.coarse_weight
        if coarse_weight > 0 and hasattr(self.model, "forward_hierarchical"):
            image = normalise(batch["image"], self.config.data.mean, self.config.data.std)
            out = self.model.forward_hierarchical(image, batch.get("meta"))
            coarse = F.cross_entropy(out.coarse_logits.float(), self.model.coarse_targets(labels))
            logits, extra = out.logits, {"coarse_loss": coarse.detach()}
            loss = self.loss_fn(logits, labels) + coarse_weight * coarse
        elif self.dense_mask:
            image = normalise(batch["image"], self.config.data.mean, self.config.data.std)
            features = self.model.forward_features(image)
            logits = self.model.forward_head(features, batch.get("meta"))
            head = self.mask_head if self.mask_head is not None else self.model.mask_logits
            mask_loss = self._mask_loss(head(features).float(), batch["mask"])
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
            "preprocessing": {
                "crop": "battery_outline" if cfg.data.crop else None,
                "resize": "area",
                "intensity": cfg.data.intensity,
            },
            "uses_meta": bool(getattr(self.model, "uses_meta", False)),
            "threshold": None,
            "temperature": 1.0,
            **provenance(cfg, self.data_fingerprint),
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
                    normalise(image, self.config.data.mean, self.config.data.std),
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
