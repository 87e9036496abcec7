"""Tiny checkpoints with known behaviour, written with the real ``save_checkpoint`` in tmp dirs.

- ``test_blob_ct``: a CT classifier that calls a slice ``cell_porosity`` when it holds bright
  pixels (> 0.5), else ``cell_normal``; its Grad-CAM map for porosity is exactly the bright blob.
- The RGB autoencoder has its output layer zeroed, so it "reconstructs" every image as flat
  gray 0.5: a gray photo scores 0 (normal), a photo with a white square is a defect there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.checkpoint import save_checkpoint
from models.ct_cnn import CTClassifier, register_model
from models.rgb_ae import create_model as create_ae

CT_CLASSES = ["cell_normal", "cell_porosity", "module_normal", "module_porosity", "module_resin_overflow"]


class BlobCT(CTClassifier):
    """logit(cell_normal) = 1, logit(cell_porosity) = 100 * mean(relu(x - 0.5)), others -10."""

    default_input_size = 32

    def __init__(self, num_classes: int = 5, in_chans: int = 1) -> None:
        super().__init__(num_classes, in_chans)
        self.features = nn.Conv2d(in_chans, 2, kernel_size=1)
        self.head = nn.Linear(2, num_classes)
        with torch.no_grad():
            self.features.weight[:] = torch.tensor([0.0, 1.0]).view(2, 1, 1, 1)
            self.features.bias[:] = torch.tensor([1.0, -0.5])
            self.head.weight.zero_()
            self.head.weight[0, 0], self.head.weight[1, 1] = 1.0, 100.0
            self.head.bias[:] = torch.tensor([0.0, 0.0] + [-10.0] * (num_classes - 2))

    @property
    def target_layer(self) -> nn.Module:
        return self.features

    def forward_features(self, image: torch.Tensor) -> torch.Tensor:
        return self.features(image)

    def forward_head(self, features: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(torch.relu(features).mean(dim=(2, 3)))


@register_model("test_blob_ct")
def test_blob_ct(num_classes: int = 5, in_chans: int = 1) -> nn.Module:
    return BlobCT(num_classes, in_chans)


def save_ct(directory: Path, name: str = "ct_test", default: bool = False, **card) -> Path:
    """A ``test_blob_ct`` checkpoint at 32x32 (pass ``architecture=`` etc. to change the card)."""
    full = {
        "task": "ct",
        "architecture": "test_blob_ct",
        "model_kwargs": {},
        "class_names": CT_CLASSES,
        "input_size": 32,
        "normalisation": {"mean": [0.0], "std": [1.0]},
        "temperature": 1.0,
        "default": default,
    }
    full.update(card)
    kwargs = dict(full["model_kwargs"])
    if full["architecture"] == "test_blob_ct":
        model = BlobCT()
    else:
        from models.ct_cnn import create_model

        model = create_model(full["architecture"], num_classes=len(CT_CLASSES), **kwargs)
    return save_checkpoint(model, Path(directory) / name, full, fp16=False)


def save_rgb(directory: Path, name: str = "rgb_test", default: bool = False, **card) -> Path:
    """A flat-gray autoencoder checkpoint at 32x32 with threshold 0.01 on the top-k score."""
    model = create_ae("conv_ae_compact", channels=[4, 8], latent_channels=4)
    last = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.out_channels == 3][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()  # sigmoid(0) = 0.5 everywhere
    return save_checkpoint(model, Path(directory) / name, rgb_card(default=default, **card), fp16=True)


def rgb_card(**card) -> dict:
    """Card of a tiny ``conv_ae_compact`` checkpoint at 32x32 (threshold 0.01, top-k score).

    Args:
        **card: Fields that replace or extend the defaults.
    """
    full = {
        "task": "rgb",
        "architecture": "conv_ae_compact",
        "model_kwargs": {"channels": [4, 8], "latent_channels": 4},
        "class_names": ["normal", "defect"],
        "input_size": 32,
        "normalisation": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
        "threshold": 0.01,
        "score_method": {"method": "topk", "metric": "mse", "topk_fraction": 0.05, "smooth_sigma": 1.0},
        "score_stats": {"error_scale": 0.01, "score_scale": 0.01},
        "default": False,
    }
    full.update(card)
    return full


def ct_image(size: int = 64, blob: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Dark CT slice (float [0, 1]) with an optional bright ``(x, y, w, h)`` blob."""
    image = np.full((size, size), 0.2, dtype=np.float32)
    if blob is not None:
        x, y, w, h = blob
        image[y : y + h, x : x + w] = 1.0
    return image


def rgb_image(size: int = 64, square: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Flat gray photo (uint8) with an optional white ``(x, y, w, h)`` square."""
    image = np.full((size, size, 3), 128, dtype=np.uint8)
    if square is not None:
        x, y, w, h = square
        image[y : y + h, x : x + w] = 255
    return image


def default_checkpoint_dir(directory: Path) -> Path:
    """``directory`` holding a default CT and a default RGB test checkpoint (what Inspector.load finds)."""
    save_ct(directory, default=True)
    save_rgb(directory, default=True)
    return directory
