"""Vision-language model backends that write a structured finding, one file per backend.

``create_vlm(name, **cfg)`` builds a backend by name; ``list_vlms()`` lists the names.
Backend modules import their heavy dependencies lazily, so importing this package is cheap. A
new backend is one new module here with a ``@register_vlm("name")`` class: the registry
discovers it on the first lookup; ``priority`` orders the app's choices (default first).
"""

from models.vlm.base import (
    SEVERITIES,
    Availability,
    BackendError,
    Finding,
    FindingRequest,
    VLMBackend,
)
from models.vlm.registry import VLM_BACKENDS, create_vlm, get_vlm_class, list_vlms, register_vlm

__all__ = [
    "SEVERITIES",
    "Availability",
    "BackendError",
    "Finding",
    "FindingRequest",
    "VLMBackend",
    "VLM_BACKENDS",
    "create_vlm",
    "get_vlm_class",
    "list_vlms",
    "register_vlm",
]
