"""Every plug-in registry of the project, by kind, as ``"module:attribute"`` strings.

The table lets tools (``python -m inspector list``) reach every :class:`core.registry.Registry`
without importing them up front: this module imports nothing outside :mod:`core` at import time,
and :func:`load_registry` imports only the kind asked for.
"""

from __future__ import annotations

import importlib

from core.errors import ConfigError
from core.registry import Registry

__all__ = ["REGISTRIES", "kinds", "load_registry"]

#: kind -> ``"module:attribute"`` of its :class:`~core.registry.Registry`.
REGISTRIES: dict[str, str] = {
    "ct_model": "models.ct_cnn.registry:CT_MODELS",
    "rgb_model": "models.rgb_ae.registry:RGB_MODELS",
    "vlm": "models.vlm.registry:VLM_BACKENDS",
    "vlg": "models.vlg.registry:VLG_BACKENDS",
    "explainer": "inspector.explain.base:EXPLAINERS",
    "predictor": "inspector.predictors.base:PREDICTORS",
    "score": "inspector.anomaly.scores:SCORE_METHODS",
    "runtime": "inspector.runtime.base:RUNTIMES",
    "loss": "training.losses:LOSSES",
    "corruption": "training.anomaly.corruptions:CORRUPTIONS",
    "transform": "training.transforms:TRANSFORMS",
    "ct_battery": "training.synth.ct.registry:CT_BATTERIES",
}


def kinds() -> list[str]:
    """Every registry kind, in table order."""
    return list(REGISTRIES)


def load_registry(kind: str) -> Registry:
    """Import and return the registry of ``kind``.

    Raises:
        ConfigError: ``kind`` is not a key of :data:`REGISTRIES`.
    """
    if kind not in REGISTRIES:
        raise ConfigError(f"unknown plug-in kind {kind!r}; choose one of {', '.join(REGISTRIES)}")
    module_name, _, attribute = REGISTRIES[kind].partition(":")
    registry = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(registry, Registry):
        raise TypeError(f"{REGISTRIES[kind]} is a {type(registry).__name__}, not a Registry")
    return registry
