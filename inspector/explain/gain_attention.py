"""GAIN-MTL attention: the model's own class-activation map, no gradients needed.

A :class:`~models.gain_mtl.GainMTL` computes its defect evidence map as part of the forward
pass (the classifier weights applied at every position; the image logit pools this map), so
the explanation *is* the decision's spatial decomposition rather than a post-hoc estimate.
The map is the positive evidence, per-image min-max normalised by the base class, exactly
as the GAIN-MTL metrics (CAM-IoU, PointGame, Energy-Inside) score it.
"""

from __future__ import annotations

import torch

from inspector.explain.base import Explainer, register_explainer


@register_explainer("gain_attention")
class GainAttention(Explainer):
    """Attention map of a GAIN-MTL model (``model(image)["cam"]``)."""

    def compute(self, model, image, meta, target):
        from models.gain_mtl import defect_evidence

        with torch.no_grad():
            out = model(image)
        if not isinstance(out, dict) or "cam" not in out:
            raise TypeError("gain_attention explains GAIN-MTL models only (their output has a 'cam' map)")
        logits = out["logits"].detach()
        if logits.shape[1] == 1:  # a single defect logit: its map is the defect evidence
            return out["cam"][0, 0].clamp(min=0), logits, 0
        index = self.resolve_target(target, logits)
        evidence = defect_evidence(out["cam"], index if index > 0 else None)
        return evidence[0, 0].clamp(min=0), logits, index
