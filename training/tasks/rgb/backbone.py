"""A feature backbone trained here, on synthetic photos, for the feature-based RGB detectors.

No model hub is reachable, so PatchCore / PaDiM / STFPM cannot start from ImageNet weights
unless the user has a local ``.safetensors`` file. This module trains the fallback: a small timm
ResNet learns, from *normal* photos only, to tell a clean photo from one with synthetic
corruptions drawn on it (:mod:`training.anomaly.corruptions`) and to segment the corruption from
its ``layer2``/``layer3`` features. Those are the layers the detectors read, so their patch
features become sensitive to local surface changes. Only the backbone is saved (timm key names,
no classifier), with a card recording config, seed, data fingerprint and the held-out metrics.

Example::

    python -m training.tasks.rgb.backbone --data data/seed1 --out checkpoints/rgb_backbone_synth
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

__all__ = ["BackboneConfig", "train_backbone"]

log = logging.getLogger(__name__)


@dataclass
class BackboneConfig:
    """Settings of the backbone run (all recorded in the card).

    Attributes:
        architecture: timm model name (a ResNet: ``layer2``/``layer3`` are read).
        input_size: Side of the battery-box crop fed to the network.
        epochs: Upper bound of passes over the train normals.
        time_budget_s: Stop after this many seconds of training (the last epoch finishes).
        batch_size: Photos per step.
        lr: AdamW learning rate (cosine decay).
        corrupt_p: Share of each batch that gets synthetic corruptions.
        seed: Random seed.
    """

    architecture: str = "resnet18"
    input_size: int = 160
    epochs: int = 30
    time_budget_s: float = 1200.0
    batch_size: int = 16
    lr: float = 2e-3
    corrupt_p: float = 0.5
    seed: int = 0
    corruptions: tuple[str, ...] = ("blob", "line", "spot", "patch")


class _Pretext(nn.Module):
    """Backbone + image head (clean vs corrupted) + pixel head on the detectors' layers."""

    def __init__(self, cfg: BackboneConfig) -> None:
        super().__init__()
        import timm

        self.backbone = timm.create_model(cfg.architecture, pretrained=False, num_classes=0)
        dims = {"layer2": self.backbone.layer2[-1].conv1.in_channels, "layer3": self.backbone.layer3[-1].conv1.in_channels}
        self.pixel = nn.Conv2d(dims["layer2"] + dims["layer3"], 1, 1)
        self.image = nn.Linear(dims["layer3"], 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = self.backbone
        h = b.maxpool(b.act1(b.bn1(b.conv1(x))))
        f2 = b.layer2(b.layer1(h))
        f3 = b.layer3(f2)
        up = F.interpolate(f3, size=f2.shape[-2:], mode="bilinear", align_corners=False)
        pixel = self.pixel(torch.cat([f2, up], 1))
        return self.image(f3.mean(dim=(2, 3)))[:, 0], pixel


def _step(model: _Pretext, batch: dict, cfg: BackboneConfig, gen: torch.Generator) -> dict[str, torch.Tensor]:
    from training.anomaly import CorruptionConfig, corrupt_batch

    images, mask = corrupt_batch(batch["image"], CorruptionConfig(p=cfg.corrupt_p, kinds=list(cfg.corruptions)), gen, batch["region"])
    target = (mask.flatten(1).amax(1) > 0).float()
    logit, pixel = model(images)
    small = F.adaptive_max_pool2d(mask, pixel.shape[-2:])
    loss = F.binary_cross_entropy_with_logits(logit, target) + F.binary_cross_entropy_with_logits(pixel, small)
    return {"loss": loss, "logit": logit.detach(), "target": target}


def train_backbone(
    data_dir: str | Path,
    out_stem: str | Path,
    config: BackboneConfig | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Train the pretext backbone on the normals of ``data_dir``'s train split and save it.

    Args:
        data_dir: Dataset folder with ``manifest.csv`` (its ``train`` normals are used for
            training and its ``val`` normals, corrupted the same way, for the held-out metric).
        out_stem: Output path without suffix: ``.safetensors`` (backbone tensors in timm names) and ``.json``.
        config: Run settings.
        progress: Optional ``callback(fraction, message)``.

    Returns:
        The card written next to the weights.
    """
    from sklearn.metrics import roc_auc_score

    from core.checkpoint import save_checkpoint
    from core.preprocessing import RGBCrop
    from training.fingerprint import dataset_fingerprint
    from training.loop import make_generator, seed_everything
    from training.tasks.rgb.data import RGBImages

    cfg = config or BackboneConfig()
    seed_everything(cfg.seed)
    crop = RGBCrop(cfg.input_size)
    train_set = RGBImages(data_dir, "train", crop, normals_only=True, rot90=True)
    val_set = RGBImages(data_dir, "val", crop, normals_only=True)
    model = _Pretext(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    steps = cfg.epochs * max(1, len(train_set) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=0.1)
    gen = make_generator(cfg.seed)
    start = time.monotonic()
    history = []
    for epoch in range(cfg.epochs):
        model.train()
        losses = []
        loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True, drop_last=True, generator=gen)
        for batch in loader:
            out = _step(model, batch, cfg, gen)
            opt.zero_grad()
            out["loss"].backward()
            opt.step()
            if sched.last_epoch < steps - 1:
                sched.step()
            losses.append(float(out["loss"].detach()))
        elapsed = time.monotonic() - start
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "elapsed_s": round(elapsed, 1)})
        log.info("backbone epoch %d loss %.4f (%.0f s)", epoch + 1, history[-1]["loss"], elapsed)
        if progress:
            progress(min(1.0, max((epoch + 1) / cfg.epochs, elapsed / cfg.time_budget_s)), f"epoch {epoch + 1}")
        if elapsed > cfg.time_budget_s:
            break
    model.eval()
    val_gen = make_generator(cfg.seed + 1)
    logits, targets = [], []
    with torch.no_grad():
        for batch in DataLoader(val_set, batch_size=cfg.batch_size):
            out = _step(model, batch, cfg, val_gen)
            logits.append(out["logit"])
            targets.append(out["target"])
    y, s = torch.cat(targets).numpy(), torch.cat(logits).numpy()
    val_auc = float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else None
    # the detectors read layer2/layer3 only: layer4 (two thirds of a ResNet-18) is not shipped
    state = {k: v for k, v in model.backbone.state_dict().items() if not k.startswith(("fc.", "layer4."))}
    card = {
        "task": "rgb_backbone",
        "architecture": cfg.architecture,
        "model_kwargs": {},
        "input_size": cfg.input_size,
        "normalisation": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
        "preprocessing": crop.to_card(),
        "pretext": "clean vs synthetic corruption (image) + corruption segmentation on layer2/layer3",
        "metrics": {"val_corruption_auroc": val_auc, "epochs_run": len(history), "history": history},
        "config": asdict(cfg),
        "seed": cfg.seed,
        "data_fingerprint": dataset_fingerprint(data_dir),
    }
    save_checkpoint(state, out_stem, card, fp16=True)
    log.info("backbone saved to %s (val corruption AUROC %s)", out_stem, val_auc)
    return card


def main(argv: list[str] | None = None) -> None:
    """``python -m training.tasks.rgb.backbone --data DIR --out STEM [--minutes M] [--seed S]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = BackboneConfig(time_budget_s=args.minutes * 60, epochs=args.epochs, seed=args.seed)
    train_backbone(args.data, args.out, cfg)


if __name__ == "__main__":
    main()
