"""Load pretrained weights from a local ``.safetensors`` file (never from a hub, never pickle)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from core.errors import CheckpointError

log = logging.getLogger(__name__)

# Prefixes that wrappers commonly add in front of backbone keys; stripped before matching.
_PREFIXES = ("module.", "model.", "backbone.", "encoder.")


def check_weights_file(path: str | Path) -> Path:
    """Return ``path`` as a Path after checking it names an existing ``.safetensors`` file.

    Raises:
        CheckpointError: The file does not exist or is not a ``.safetensors`` file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"pretrained weights file {path} does not exist.")
    if path.suffix != ".safetensors":
        raise CheckpointError(f"pretrained weights must be a .safetensors file, got {path.name}.")
    return path


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict from a ``.safetensors`` file.

    Raises:
        CheckpointError: The file is missing, not safetensors, or unreadable.
    """
    path = check_weights_file(path)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"cannot read pretrained weights {path}: {exc}.") from exc


def adapt_input_conv(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    """Adapt a first-convolution weight ``[O, I, kH, kW]`` to ``in_chans`` input channels.

    RGB weights become grayscale by summing over the colour channels (a gray image fed to all
    three channels gives the same response); other counts repeat the mean-scaled weight, as timm
    does.
    """
    in_src = weight.shape[1]
    if in_src == in_chans:
        return weight
    if in_chans == 1:
        return weight.sum(dim=1, keepdim=True)
    repeats = -(-in_chans // in_src)
    return weight.repeat(1, repeats, 1, 1)[:, :in_chans] * (in_src / in_chans)


def load_pretrained(
    module: nn.Module,
    path: str | Path,
    first_conv: str = "conv1.weight",
) -> int:
    """Load the matching tensors of a local state dict into ``module``.

    Keys are matched after stripping common wrapper prefixes (``model.``, ``backbone.``, ...);
    keys the module does not have (e.g. an ImageNet ``fc.*`` classifier) are ignored. The first
    convolution is adapted to the module's input channels (3-channel RGB weights -> 1-channel
    CT stem, logged).

    Args:
        module: The module to load into (e.g. a :class:`~models.backbones.resnet.ResNetFeatures`).
        path: A ``.safetensors`` state dict.
        first_conv: Key of the first convolution weight in ``module``.

    Returns:
        Number of tensors loaded.

    Raises:
        CheckpointError: The file is missing/unreadable, no tensor matches, or a matching key has
            an incompatible shape.
    """
    source = read_state_dict(path)
    target = module.state_dict()
    matched: dict[str, torch.Tensor] = {}
    for key, value in source.items():
        name = key
        for prefix in _PREFIXES:
            if name not in target and name.startswith(prefix):
                name = name[len(prefix) :]
        if name not in target:
            continue
        if name == first_conv and value.ndim == 4 and value.shape[1] != target[name].shape[1]:
            log.info("adapting %s from %d to %d input channels", name, value.shape[1], target[name].shape[1])
            value = adapt_input_conv(value, target[name].shape[1])
        if value.shape != target[name].shape:
            raise CheckpointError(
                f"pretrained weights {Path(path).name} do not fit this model: {name} has shape "
                f"{tuple(value.shape)}, expected {tuple(target[name].shape)}."
            )
        matched[name] = value.to(target[name].dtype)
    if not matched:
        raise CheckpointError(f"no tensor in {Path(path).name} matches the model's parameter names.")
    missing = [k for k in target if k not in matched and not k.endswith("num_batches_tracked")]
    module.load_state_dict(matched, strict=False)
    log.info("loaded %d tensors from %s (%d left at initialisation)", len(matched), path, len(missing))
    return len(matched)
