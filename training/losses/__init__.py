"""Losses, one small ``nn.Module`` per file, created by name from a config.

Register a new loss with the decorator in a new module of this package and it becomes available
to every config (the registry discovers the package's modules on the first lookup)::

    @register_loss("my_loss")
    class MyLoss(nn.Module):
        \"\"\"My loss (the first docstring line is its ``python -m inspector list`` description).\"\"\"

    loss_fn = create_loss("focal", gamma=2.0, label_smoothing=0.1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from core.errors import ConfigError
from core.registry import Registry

LOSSES: Registry[type[nn.Module]] = Registry(
    "loss", "training.losses", attribute=None, unknown="unknown {kind} {name!r} (available: {known})"
)


def register_loss(name: str, *, priority: int = 0) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator adding a loss to the registry under ``name``."""
    return LOSSES.register(name, priority=priority)


def list_losses() -> list[str]:
    """Names of the registered losses."""
    return LOSSES.names()


def create_loss(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered loss.

    Args:
        name: Registry name, e.g. ``"focal"`` or ``"cross_entropy"``.
        **kwargs: Constructor arguments of that loss.

    Raises:
        ConfigError: If the name is unknown or the arguments do not fit the loss.
    """
    cls = LOSSES.get(name)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid settings for loss {name!r}: {exc}") from exc


# Re-exported for callers that build these two directly (the other losses are found by discovery).
from training.losses.focal import CrossEntropyLoss, FocalLoss  # noqa: E402

__all__ = ["LOSSES", "CrossEntropyLoss", "FocalLoss", "create_loss", "list_losses", "register_loss"]
