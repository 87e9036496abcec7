"""GAIN-MTL attention: the model's own class-activation map, no gradients needed.

A :class:`~models.gain_mtl.GainMTL` computes its defect evidence map as part of the forward
pass (the classifier weights applied at every position; the image logit pools this map), so
the explanation *is* the decision's spatial decomposition rather than a post-hoc estimate.

In the order the code runs: the defect evidence is clipped at zero on the model's feature grid
(:meth:`GainAttention.compute`), then the base class upsamples it bilinearly to the input size
and min-max normalises it per image (:meth:`~inspector.explain.base.Explainer.to_unit_map`).
The GAIN-MTL metrics (CAM-IoU, PointGame, Energy-Inside) and :meth:`models.gain_mtl.GainMTL.attention`
use :func:`models.gain_mtl.normalise_attention` instead, which upsamples *first* and clips after;
the two maps agree where the evidence is clearly positive and may differ slightly at the border
of a positive region, where clipping before upsampling lets a little positive value spread into
cells whose interpolated evidence is negative.
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
