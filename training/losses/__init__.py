"""Losses, one small ``nn.Module`` per file, created by name from a config.

Register a new loss with the decorator and it becomes available to every config::

    @register_loss("my_loss")
    class MyLoss(nn.Module):
        ...

    loss_fn = create_loss("focal", gamma=2.0, label_smoothing=0.1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from core.errors import ConfigError

_LOSSES: dict[str, type[nn.Module]] = {}


def register_loss(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator adding a loss to the registry under ``name``."""

    def decorator(cls: type[nn.Module]) -> type[nn.Module]:
        if name in _LOSSES and _LOSSES[name] is not cls:
            raise ValueError(f"loss {name!r} is already registered")
        _LOSSES[name] = cls
        return cls

    return decorator


def list_losses() -> list[str]:
    """Names of the registered losses."""
    return sorted(_LOSSES)


def create_loss(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered loss.

    Args:
        name: Registry name, e.g. ``"focal"`` or ``"cross_entropy"``.
        **kwargs: Constructor arguments of that loss.

    Raises:
        ConfigError: If the name is unknown or the arguments do not fit the loss.
    """
    if name not in _LOSSES:
        raise ConfigError(f"unknown loss {name!r} (available: {', '.join(list_losses())})")
    try:
        return _LOSSES[name](**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid settings for loss {name!r}: {exc}") from exc


# Built-in losses register themselves on import (the GAIN-MTL ones share training.losses.gain_base).
from training.losses import attention_mining, cam_guide, consistency, counterfactual, guide, localisation  # noqa: E402, F401
from training.losses import focal as _focal  # noqa: E402, F401
from training.losses.focal import CrossEntropyLoss, FocalLoss  # noqa: E402

__all__ = ["CrossEntropyLoss", "FocalLoss", "create_loss", "list_losses", "register_loss"]
