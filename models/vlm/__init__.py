"""Vision-language model backends that write a structured finding, one file per backend.

``create_vlm(name, **cfg)`` builds a backend by name; ``list_vlms()`` lists the names.
Backend modules import their heavy dependencies lazily, so importing this package is cheap.
"""

from models.vlm.base import (
    SEVERITIES,
    Availability,
    BackendError,
    Finding,
    FindingRequest,
    VLMBackend,
)
from models.vlm.registry import create_vlm, get_vlm_class, list_vlms, register_vlm

# isort: off
# Importing registers the backends; the order is the order the app offers them.
from models.vlm import findings_writer, gemini, qwen3_vl  # noqa: F401
# isort: on

__all__ = [
    "SEVERITIES",
    "Availability",
    "BackendError",
    "Finding",
    "FindingRequest",
    "VLMBackend",
    "create_vlm",
    "get_vlm_class",
    "list_vlms",
    "register_vlm",
]
