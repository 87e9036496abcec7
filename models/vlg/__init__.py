"""Vision-language grounding backends: text-prompted defect boxes, one file per backend.

``create_vlg(name, **cfg)`` builds a backend by name; ``list_vlgs()`` lists the names.
Backend modules import their heavy dependencies lazily, so importing this package is cheap. A
new backend is one new module here with a ``@register_vlg("name")`` class: the registry
discovers it on the first lookup; ``priority`` orders the app's choices (default first).
"""

from models.vlg.base import Detection, VLGBackend
from models.vlg.registry import VLG_BACKENDS, create_vlg, get_vlg_class, list_vlgs, register_vlg

__all__ = [
    "VLG_BACKENDS",
    "Detection",
    "VLGBackend",
    "create_vlg",
    "get_vlg_class",
    "list_vlgs",
    "register_vlg",
]
