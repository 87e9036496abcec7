"""Explanations: where a model looked (attention maps) and boxes from maps.

One interface for every method: ``create_explainer(name).explain(model, image, meta, target)``
returns a map ``[H, W]`` in ``[0, 1]`` at the input size. Methods live one per file in this
package and register themselves with :func:`register_explainer`; a new method (for example the
GAIN-MTL attention) is a new file here, discovered automatically, with no edit to callers.
"""

from inspector.explain.boxes import boxes_from_map, rescale_boxes

__all__ = [
    "EXPLAINERS",
    "Explainer",
    "Explanation",
    "boxes_from_map",
    "create_explainer",
    "list_explainers",
    "register_explainer",
    "rescale_boxes",
]


def __getattr__(name: str):
    # Lazy: `inspector.explain.boxes` must stay importable without torch (used by image code).
    if name in {
        "EXPLAINERS",
        "Explainer",
        "Explanation",
        "create_explainer",
        "list_explainers",
        "register_explainer",
    }:
        from inspector.explain import base

        return getattr(base, name)
    raise AttributeError(f"module 'inspector.explain' has no attribute {name!r}")
