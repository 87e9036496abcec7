"""Vision-language grounding backends: text-prompted defect boxes, one file per backend.

``create_vlg(name, **cfg)`` builds a backend by name; ``list_vlgs()`` lists the names.
Backend modules import their heavy dependencies lazily, so importing this package is cheap.
"""

from models.vlg.base import Detection, VLGBackend
from models.vlg.registry import create_vlg, get_vlg_class, list_vlgs, register_vlg

# isort: off
# Importing registers the backends; the order is the order the app offers them.
from models.vlg import model_boxes, grounding_dino, yolo_world  # noqa: F401
# isort: on

__all__ = ["Detection", "VLGBackend", "create_vlg", "get_vlg_class", "list_vlgs", "register_vlg"]
