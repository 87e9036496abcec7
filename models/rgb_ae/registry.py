"""Registry of RGB anomaly autoencoders, created by name from a config.

A variant is a factory in a module of :mod:`models.rgb_ae`, registered once::

    @register_model("conv_ae")
    def conv_ae(in_chans: int = 3, **kwargs) -> nn.Module:
        \"\"\"Four-stage convolutional autoencoder.\"\"\"

and callers build it with ``create_model("conv_ae", latent_channels=64)``; the name is what
the checkpoint card stores as ``architecture``. The package's modules are discovered on the
first lookup (:class:`core.registry.Registry`), so a new detector is one new file.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from core.registry import Registry

ModelFactory = Callable[..., nn.Module]

RGB_MODELS: Registry[ModelFactory] = Registry(
    "RGB autoencoder",
    "models.rgb_ae",
    attribute=None,
    unknown="unknown {kind} {name!r}; known models: {known}.",
)


def register_model(name: str, *, priority: int = 0) -> Callable[[ModelFactory], ModelFactory]:
    """Decorator that registers an autoencoder factory under ``name``.

    Raises:
        ValueError: The name is already taken (a programming error, not a user error).
    """
    return RGB_MODELS.register(name, priority=priority)


def list_models() -> list[str]:
    """Registered autoencoder names, sorted."""
    return RGB_MODELS.names()


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
    RGB_MODELS.check_options(name, kwargs)
    return RGB_MODELS.create(name, **kwargs)
