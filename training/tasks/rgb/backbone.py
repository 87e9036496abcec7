"""A feature backbone trained here, on synthetic photos, for the feature-based RGB detectors.

No model hub is reachable, so PatchCore / PaDiM / STFPM cannot start from ImageNet weights
unless the user has a local ``.safetensors`` file. This module trains the fallback: a small timm
ResNet learns to tell a clean photo from a defective one and to segment the defect from its
``layer1``-``layer3`` features, the layers the detectors read, so their patch features become
sensitive to local surface changes. Defects are synthetic corruptions drawn on normals
(:mod:`training.anomaly.corruptions`) and, with ``--defect-masks``, the generator's own defect
photos with their masks; ``--colour-jitter`` makes the features indifferent to a wrap's colour.
Only the backbone is saved (timm key names, no heads, no ``layer4``), with a card recording
config, seed, data fingerprints and the held-out metrics.

Example::

    python -m training.tasks.rgb.backbone --data data/rgbphoto30 --data data/rgbflat31 \\
        --out checkpoints/rgb_backbone_synth --defect-masks --colour-jitter
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
        architecture: timm model name (a ResNet: ``layer1``-``layer3`` are read).
        input_size: Side of the battery-box crop fed to the network.
        epochs: Upper bound of passes over the training photos.
        time_budget_s: Stop after this many seconds of training (the current step finishes).
        batch_size: Photos per step.
        lr: AdamW learning rate (one-cycle schedule).
        corrupt_p: Share of each batch's normal photos that get synthetic corruptions.
        seed: Random seed.
        corruptions: Kinds of :mod:`training.anomaly.corruptions` drawn on normals.
        defect_masks: Also train on the datasets' defect photos, their generator masks being the
            pixel targets (the synthetic-defect task); ``False`` uses normals only.
        colour_jitter: Randomly permute colour channels and change brightness, contrast and
            saturation, so the features do not depend on a wrap's colour.
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
    defect_masks: bool = False
    colour_jitter: bool = False


READ_LAYERS = ("layer1", "layer2", "layer3")  # what PatchCore / PaDiM / STFPM read


class _Pretext(nn.Module):
    """Backbone + image head (clean vs defective) + pixel head on the detectors' layers."""

    def __init__(self, cfg: BackboneConfig) -> None:
        super().__init__()
        import timm

        self.backbone = timm.create_model(cfg.architecture, pretrained=False, num_classes=0)
        dims = sum(getattr(self.backbone, name)[-1].conv1.in_channels for name in READ_LAYERS)
        self.pixel = nn.Conv2d(dims, 1, 1)
        self.image = nn.Linear(self.backbone.layer3[-1].conv1.in_channels, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = self.backbone
        f1 = b.layer1(b.maxpool(b.act1(b.bn1(b.conv1(x)))))
        f2 = b.layer2(f1)
        f3 = b.layer3(f2)
        size = f1.shape[-2:]
        up = [F.interpolate(f, size=size, mode="bilinear", align_corners=False) for f in (f2, f3)]
        pixel = self.pixel(torch.cat([f1, *up], 1))
        return self.image(f3.mean(dim=(2, 3)))[:, 0], pixel


def _jitter(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Channel permutation, brightness, contrast and saturation changes per photo (in ``[0, 1]``)."""
    out = []
    for img in images:
        img = img[torch.randperm(3, generator=gen)]
        u = torch.rand(4, generator=gen)
        grey = img.mean(0, keepdim=True)
        img = grey + (img - grey) * (0.3 + 1.2 * u[0])  # saturation 0.3-1.5
        mean = img.mean()
        img = mean + (img - mean) * (0.6 + 0.8 * u[1])  # contrast 0.6-1.4
        img = img * (0.6 + 0.8 * u[2])  # exposure 0.6-1.4
        out.append(img.clamp(0.0, 1.0))
    return torch.stack(out)


def _step(model: _Pretext, batch: dict, cfg: BackboneConfig, gen: torch.Generator, train: bool = True) -> dict[str, torch.Tensor]:
    from training.anomaly import CorruptionConfig, corrupt_batch

    images, given = batch["image"], batch.get("mask")
    is_defect = torch.as_tensor(batch["is_defect"]).bool()
    mask = torch.zeros_like(images[:, :1]) if given is None else given.clone()
    if train and cfg.corrupt_p > 0:
        normal = ~is_defect
        if normal.any():
            corrupted, drawn = corrupt_batch(
                images[normal], CorruptionConfig(p=cfg.corrupt_p, kinds=list(cfg.corruptions)), gen, batch["region"][normal]
            )
            images = images.clone()
            images[normal], mask[normal] = corrupted, drawn
        if cfg.colour_jitter:
            images = _jitter(images, gen)
    target = ((mask.flatten(1).amax(1) > 0) | is_defect).float()
    logit, pixel = model(images)
    small = F.adaptive_max_pool2d(mask, pixel.shape[-2:])
    # defects cover ~1 % of a photo: weight positive pixels so the head does not learn "all clean"
    pos_weight = ((small.numel() - small.sum()) / small.sum().clamp(min=1.0)).clamp(1.0, 50.0)
    loss = F.binary_cross_entropy_with_logits(logit, target) + F.binary_cross_entropy_with_logits(pixel, small, pos_weight=pos_weight)
    peak = torch.topk(pixel.detach().flatten(1), k=max(1, pixel[0].numel() // 100), dim=1).values.mean(1)
    return {"loss": loss, "logit": logit.detach(), "peak": peak, "target": target}


def train_backbone(
    data_dirs: str | Path | list[str | Path],
    out_stem: str | Path,
    config: BackboneConfig | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Train the pretext backbone on the ``train`` split of ``data_dirs`` and save it.

    Args:
        data_dirs: Dataset folder(s) with ``manifest.csv``. Their ``train`` photos (normals, plus
            defects with ``config.defect_masks``) train the network; their ``val`` photos give the
            held-out metrics: AUROC of clean vs corrupted normals, and with ``defect_masks`` also
            of normal vs defective photos (the generator's defects, not corrupted).
        out_stem: Output path without suffix: ``.safetensors`` (backbone tensors in timm names) and ``.json``.
        config: Run settings.
        progress: Optional ``callback(fraction, message)``.

    Returns:
        The card written next to the weights.
    """
    from sklearn.metrics import roc_auc_score
    from torch.utils.data import ConcatDataset

    from core.checkpoint import save_checkpoint
    from core.preprocessing import RGBCrop
    from training.fingerprint import dataset_fingerprint
    from training.loop import make_generator, seed_everything
    from training.tasks.rgb.data import RGBImages

    cfg = config or BackboneConfig()
    dirs = [data_dirs] if isinstance(data_dirs, (str, Path)) else list(data_dirs)
    seed_everything(cfg.seed)
    crop = RGBCrop(cfg.input_size)
    only_normals = not cfg.defect_masks
    train_set = ConcatDataset(
        [RGBImages(d, "train", crop, normals_only=only_normals, rot90=True, masks=cfg.defect_masks) for d in dirs]
    )
    val_sets = [RGBImages(d, "val", crop, normals_only=only_normals, masks=cfg.defect_masks) for d in dirs]
    model = _Pretext(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    per_epoch = max(1, len(train_set) // cfg.batch_size)
    steps = cfg.epochs * per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=0.1)
    gen = make_generator(cfg.seed)
    start = time.monotonic()
    history: list[dict[str, float]] = []
    out_of_time = False
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
            if len(losses) % 20 == 0:
                log.info("backbone epoch %d step %d/%d loss %.4f", epoch + 1, len(losses), per_epoch, np.mean(losses[-20:]))
            if time.monotonic() - start > cfg.time_budget_s:
                out_of_time = True
                break
        elapsed = time.monotonic() - start
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "elapsed_s": round(elapsed, 1), "steps": len(losses)})
        log.info("backbone epoch %d loss %.4f (%.0f s)", epoch + 1, history[-1]["loss"], elapsed)
        if progress:
            progress(min(1.0, max((epoch + 1) / cfg.epochs, elapsed / cfg.time_budget_s)), f"epoch {epoch + 1}")
        if out_of_time:
            break
    metrics: dict[str, Any] = {"epochs_run": len(history), "history": history}
    model.eval()
    plain = BackboneConfig(**{**asdict(cfg), "colour_jitter": False})  # held-out photos are not jittered
    with torch.no_grad():
        corrupted = {"logit": [], "target": []}
        real = {"logit": [], "peak": [], "target": []}
        for val_set in val_sets:
            val_gen = make_generator(cfg.seed + 1)
            for batch in DataLoader(val_set, batch_size=cfg.batch_size):
                normal = ~torch.as_tensor(batch["is_defect"]).bool()
                if normal.any():  # clean vs corrupted normals (the pretext task itself)
                    sub = {"image": batch["image"][normal], "region": batch["region"][normal], "is_defect": [0] * int(normal.sum())}
                    out = _step(model, sub, plain, val_gen)
                    corrupted["logit"].append(out["logit"])
                    corrupted["target"].append(out["target"])
                if cfg.defect_masks:  # the generator's defects, uncorrupted
                    out = _step(model, batch, cfg, val_gen, train=False)
                    for key in real:
                        real[key].append(out[key])
    auc = lambda y, s: float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else None  # noqa: E731
    y = torch.cat(corrupted["target"]).numpy()
    metrics["val_corruption_auroc"] = auc(y, torch.cat(corrupted["logit"]).numpy())
    if cfg.defect_masks:
        y = torch.cat(real["target"]).numpy()
        metrics["val_defect_auroc_image_head"] = auc(y, torch.cat(real["logit"]).numpy())
        metrics["val_defect_auroc_pixel_head"] = auc(y, torch.cat(real["peak"]).numpy())
    # the detectors read layer1-layer3 only: layer4 (two thirds of a ResNet-18) is not shipped
    state = {k: v for k, v in model.backbone.state_dict().items() if not k.startswith(("fc.", "layer4."))}
    pretext = "clean vs synthetic corruption (image) + corruption segmentation on layer1-layer3"
    if cfg.defect_masks:
        pretext += "; the generator's defect photos with their masks as further positives"
    card = {
        "task": "rgb_backbone",
        "architecture": cfg.architecture,
        "model_kwargs": {},
        "input_size": cfg.input_size,
        "normalisation": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
        "preprocessing": crop.to_card(),
        "pretext": pretext,
        "metrics": metrics,
        "config": asdict(cfg),
        "seed": cfg.seed,
        "data_fingerprint": {str(d): dataset_fingerprint(d) for d in dirs},
    }
    save_checkpoint(state, out_stem, card, fp16=True)
    log.info("backbone saved to %s (%s)", out_stem, {k: v for k, v in metrics.items() if k.startswith("val_")})
    return card


def main(argv: list[str] | None = None) -> None:
    """``python -m training.tasks.rgb.backbone --data DIR [--data DIR2] --out STEM [--minutes M] [--defect-masks] [--colour-jitter]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, action="append", help="dataset folder (repeatable)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--defect-masks", action="store_true", help="also train on defect photos with their masks")
    parser.add_argument("--colour-jitter", action="store_true", help="channel permutation and exposure changes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = BackboneConfig(
        time_budget_s=args.minutes * 60,
        epochs=args.epochs,
        seed=args.seed,
        defect_masks=args.defect_masks,
        colour_jitter=args.colour_jitter,
    )
    train_backbone(args.data, args.out, cfg)


if __name__ == "__main__":
    main()
