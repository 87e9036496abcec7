"""GAIN task: :class:`GainTask`, the sum of the configured loss terms, and its card."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from training.curriculum import MaskCurriculum, linear_warmup
from training.losses import create_loss
from training.losses.gain_base import GainInputs
from training.metrics.localisation import GainMetrics
from training.tasks import Task
from training.tasks.common import normalise, provenance
from training.tasks.gain.config import CLASS_NAMES, CLASSIFICATION_TERM, GainConfig, model_kwargs

__all__ = ["GainTask"]


class _BinaryClassification(nn.Module):
    """Adapter: a registered ``[N, C]`` classification loss applied to one defect logit.

    The logit ``z`` becomes the two-class logits ``[0, z]``, whose softmax is
    ``[1 - sigmoid(z), sigmoid(z)]``; cross-entropy on them is the BCE of ``z``.
    """

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, defect_logit: torch.Tensor, is_defect: torch.Tensor) -> torch.Tensor:
        two = torch.stack([torch.zeros_like(defect_logit), defect_logit], dim=1)
        return self.loss(two, is_defect.long())


class GainTask(Task):
    """Sum of the configured GAIN-MTL loss terms; validation reports every metric of seed 001.

    Args:
        model: A :class:`~models.gain_mtl.GainMTL`.
        config: The full GAIN config.
        data_fingerprint: Fingerprint of the training dataset (stored in the card).
    """

    name = "gain"
    monitor = ("f1", "max")

    def __init__(
        self, model: nn.Module, config: GainConfig, data_fingerprint: Mapping[str, Any] | None = None
    ):
        self.model = model
        self.config = config
        self.data_fingerprint = dict(data_fingerprint or {})
        self.terms = config.loss_terms()
        self.losses = nn.ModuleDict()
        for key, term in self.terms.items():
            loss = create_loss(term.name, **term.kwargs)
            self.losses[key] = _BinaryClassification(loss) if key == CLASSIFICATION_TERM else loss
        self.curriculum = MaskCurriculum(config.curriculum.alpha_start, config.curriculum.end_ratio)

    def _normalise(self, image: torch.Tensor) -> torch.Tensor:
        return normalise(image, self.config.data.mean, self.config.data.std)

    def inputs(self, batch: Mapping[str, Any], progress: float) -> GainInputs:
        """Run the model on a batch and gather what the losses need."""
        from models.gain_mtl import defect_evidence, normalise_attention

        image = self._normalise(batch["image"])
        output = self.model(image)
        evidence = defect_evidence(output["cam"])
        attention = normalise_attention(evidence, tuple(image.shape[-2:]))
        mask = batch["mask"]
        return GainInputs(
            model=self.model,
            image=image,
            mask=mask,
            is_defect=batch["is_defect"].float(),
            output=output,
            evidence=evidence,
            attention=attention,
            mining_attention=self.curriculum.fuse(attention, mask, progress),
        )

    def training_step(self, batch: Mapping[str, Any], epoch_progress: float) -> dict[str, Any]:
        inputs = self.inputs(batch, epoch_progress)
        total = inputs.evidence.sum() * 0.0
        scalars: dict[str, Any] = {}
        for key, term in self.terms.items():
            weight = linear_warmup(term.weight, term.warmup, epoch_progress)
            if weight == 0.0:
                continue
            if key == CLASSIFICATION_TERM:
                value = self.losses[key](inputs.defect_logit, inputs.is_defect)
            else:
                value = self.losses[key](inputs)
            total = total + weight * value
            scalars[f"loss_{key}"] = value.detach()
        scalars["alpha"] = self.curriculum.alpha(epoch_progress)
        return {"loss": total, **scalars}

    def validation_step(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        maps = self.predict(batch["image"])
        return {**maps, "is_defect": batch["is_defect"].cpu(), "mask": batch["mask"].cpu()}

    @torch.no_grad()
    def predict(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Defect probability ``[B]``, attention and localisation maps ``[B, 1, H, W]`` (CPU)."""
        inputs = self.inputs(
            {"image": image, "mask": torch.zeros_like(image), "is_defect": image.new_zeros(len(image))}, 1.0
        )
        size = tuple(image.shape[-2:])
        return {
            "prob": torch.sigmoid(inputs.defect_logit).float().cpu(),
            "attention": inputs.attention.float().cpu(),
            "loc": self.model.localisation(inputs.output, size).float().cpu(),
        }

    def validation_end(self, outputs: list[dict[str, Any]]) -> dict[str, float]:
        ev = self.config.eval
        meter = GainMetrics(ev.threshold, ev.map_threshold, ev.tolerance)
        for o in outputs:
            meter.update(o["prob"], o["is_defect"], o["attention"], o["mask"], o["loc"])
        metrics = meter.compute()
        return {k: float(v) for k, v in metrics.items() if v is not None}

    def card(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "task": "gain",
            "architecture": "gain_mtl",
            "model_kwargs": model_kwargs(cfg.model),
            "class_names": list(CLASS_NAMES),
            "input_size": cfg.data.input_size,
            "normalisation": {"mean": [cfg.data.mean], "std": [cfg.data.std]},
            "preprocessing": {"crop": None, "resize": "area", "intensity": cfg.data.intensity},
            "threshold": cfg.eval.threshold,
            "map_threshold": cfg.eval.map_threshold,
            "strategy": cfg.strategy,
            **provenance(cfg, self.data_fingerprint),
        }
