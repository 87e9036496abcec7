"""Registry of CT classifier families, created by name from a config.

A family is one module in :mod:`models.ct_cnn` that registers its factory once::

    @register_model("resnet18")
    def resnet18(num_classes: int = 5, in_chans: int = 1, dropout: float = 0.5, ...) -> nn.Module:
        \"\"\"ResNet-18 + dropout FC.\"\"\"

and any caller builds it with ``create_model("resnet18", num_classes=5, dropout=0.3)``; the
package's modules are discovered on the first lookup (:class:`core.registry.Registry`), so a new
family needs no edit anywhere else. A name of the form ``"family:variant"``
(``"timm:convnext_tiny"``) calls the ``family`` factory with ``variant=...``, so one entry can
wrap a whole library of models.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from torch import nn

from core.errors import ConfigError
from core.registry import Registry

ModelFactory = Callable[..., nn.Module]


def _takes_variant(fn: ModelFactory) -> bool:
    return "variant" in inspect.signature(fn).parameters


def _label(name: str, fn: ModelFactory) -> str:
    """``family:<name>`` for a factory that takes a variant, else the plain name."""
    return f"{name}:<name>" if _takes_variant(fn) else name


CT_MODELS: Registry[ModelFactory] = Registry(
    "CT model",
    "models.ct_cnn",
    attribute=None,
    unknown="unknown {kind} {name!r}; known models: {known}.",
    label=_label,
)

# Parameters the caller fills (not shown as options in error messages).
_FILLED = ("num_classes", "in_chans", "variant")


def register_model(name: str, *, priority: int = 0) -> Callable[[ModelFactory], ModelFactory]:
    """Decorator that registers a factory ``fn(num_classes, in_chans, **kwargs) -> nn.Module``.

    Args:
        name: Name used in configs and checkpoint cards (``architecture``).
        priority: Listing rank (higher first).

    Raises:
        ValueError: The name is already taken (a programming error, not a user error).
    """
    return CT_MODELS.register(name, priority=priority)


def list_models() -> list[str]:
    """Registered family names, sorted (``timm`` accepts ``timm:<any timm model>``)."""
    return CT_MODELS.names()


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
    if family not in CT_MODELS:
        raise CT_MODELS.unknown_error(name)
    fn = CT_MODELS.get(family)
    if sep:
        if not _takes_variant(fn):
            raise ConfigError(f"CT model {family!r} has no variants; use {family!r} without ':{variant}'.")
        kwargs["variant"] = variant
    if num_classes < 1 or in_chans < 1:
        raise ConfigError(f"num_classes and in_chans must be positive, got {num_classes} and {in_chans}.")
    CT_MODELS.check_options(family, kwargs, hidden=_FILLED)
    return fn(num_classes=num_classes, in_chans=in_chans, **kwargs)
