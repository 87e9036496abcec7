"""Registry of CT classifier families, created by name from a config.

A family registers its factory once::

    @register_model("resnet18")
    def resnet18(num_classes: int = 5, in_chans: int = 1, dropout: float = 0.5, ...) -> nn.Module:
        ...

and any caller builds it with ``create_model("resnet18", num_classes=5, dropout=0.3)``. A name
of the form ``"family:variant"`` (``"timm:convnext_tiny"``) calls the ``family`` factory with
``variant=...``, so one entry can wrap a whole library of models.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from torch import nn

from core.errors import ConfigError

ModelFactory = Callable[..., nn.Module]

_MODELS: dict[str, ModelFactory] = {}


def register_model(name: str) -> Callable[[ModelFactory], ModelFactory]:
    """Decorator that registers a factory ``fn(num_classes, in_chans, **kwargs) -> nn.Module``.

    Args:
        name: Name used in configs and checkpoint cards (``architecture``).

    Raises:
        ValueError: The name is already taken (a programming error, not a user error).
    """

    def decorator(fn: ModelFactory) -> ModelFactory:
        if name in _MODELS:
            raise ValueError(f"CT model {name!r} is registered twice")
        _MODELS[name] = fn
        return fn

    return decorator


def list_models() -> list[str]:
    """Registered family names, sorted (``timm`` accepts ``timm:<any timm model>``)."""
    return sorted(_MODELS)


def _known_names() -> str:
    """Names for error messages, showing the ``family:<variant>`` form where it applies."""
    names = [
        f"{n}:<name>" if "variant" in inspect.signature(_MODELS[n]).parameters else n for n in list_models()
    ]
    return ", ".join(names)


def _check_kwargs(name: str, fn: ModelFactory, kwargs: dict) -> None:
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        accepted = [p for p in params if p not in ("num_classes", "in_chans", "variant")]
        raise ConfigError(
            f"model {name!r} does not accept option(s) {', '.join(unknown)}; "
            f"it accepts: {', '.join(accepted) or 'none'}."
        )


def create_model(name: str, num_classes: int = 5, in_chans: int = 1, **kwargs) -> nn.Module:
    """Build a registered CT classifier.

    Args:
        name: A name from :func:`list_models`, or ``"family:variant"`` (e.g. ``"timm:efficientnet_b0"``).
        num_classes: Number of output logits.
        in_chans: Input channels (1 for a grayscale CT slice).
        **kwargs: Family options (``dropout``, ``pretrained_path``, ``output_stride``, ...).

    Returns:
        An ``nn.Module`` called as ``model(image, meta=None) -> logits[B, num_classes]`` with a
        ``target_layer`` attribute for Grad-CAM.

    Raises:
        ConfigError: Unknown name or option, or an invalid option value.
        CheckpointError: A ``pretrained_path`` that does not exist or does not fit.
    """
    family, sep, variant = name.partition(":")
    if family not in _MODELS:
        raise ConfigError(f"unknown CT model {name!r}; known models: {_known_names()}.")
    fn = _MODELS[family]
    if sep:
        if "variant" not in inspect.signature(fn).parameters:
            raise ConfigError(f"CT model {family!r} has no variants; use {family!r} without ':{variant}'.")
        kwargs["variant"] = variant
    if num_classes < 1 or in_chans < 1:
        raise ConfigError(f"num_classes and in_chans must be positive, got {num_classes} and {in_chans}.")
    _check_kwargs(name, fn, kwargs)
    return fn(num_classes=num_classes, in_chans=in_chans, **kwargs)
