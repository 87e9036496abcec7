"""Registry of RGB anomaly autoencoders, created by name from a config.

A variant registers its factory once::

    @register_model("conv_ae")
    def conv_ae(in_chans: int = 3, **kwargs) -> nn.Module: ...

and callers build it with ``create_model("conv_ae", latent_channels=64)``; the name is what
the checkpoint card stores as ``architecture``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from torch import nn

from core.errors import ConfigError

ModelFactory = Callable[..., nn.Module]

_MODELS: dict[str, ModelFactory] = {}


def register_model(name: str) -> Callable[[ModelFactory], ModelFactory]:
    """Decorator that registers an autoencoder factory under ``name``.

    Raises:
        ValueError: The name is already taken (a programming error, not a user error).
    """

    def decorator(fn: ModelFactory) -> ModelFactory:
        if name in _MODELS:
            raise ValueError(f"RGB autoencoder {name!r} is registered twice")
        _MODELS[name] = fn
        return fn

    return decorator


def list_models() -> list[str]:
    """Registered autoencoder names, sorted."""
    return sorted(_MODELS)


def create_model(name: str, **kwargs) -> nn.Module:
    """Build a registered autoencoder.

    Args:
        name: A name from :func:`list_models`.
        **kwargs: Options of that factory (``channels``, ``latent_channels``, ...).

    Returns:
        An ``nn.Module`` mapping ``[B, C, H, W]`` images in ``[0, 1]`` to reconstructions of the
        same shape.

    Raises:
        ConfigError: Unknown name or option.
    """
    if name not in _MODELS:
        raise ConfigError(f"unknown RGB autoencoder {name!r}; known models: {', '.join(list_models())}.")
    fn = _MODELS[name]
    accepted = inspect.signature(fn).parameters
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ConfigError(
            f"RGB autoencoder {name!r} does not accept option(s) {', '.join(unknown)}; "
            f"it accepts: {', '.join(accepted) or 'none'}."
        )
    return fn(**kwargs)
