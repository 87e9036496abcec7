"""``torch``: run the inference graph in-process with PyTorch (no gradients)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from inspector.runtime.base import ModelRunner, register_runtime

__all__ = ["TorchRunner"]


@register_runtime("torch", priority=10)
class TorchRunner(ModelRunner):
    """PyTorch, in-process (the reference; every model and explainer works here)."""

    @torch.no_grad()
    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the graph's torch module on CPU tensors and return numpy outputs."""
        arrays = self.check_inputs(inputs)
        device = self.graph.device
        outputs = self.graph(*(torch.from_numpy(arrays[n]).to(device) for n in self.graph.input_names))
        return {
            name: value.detach().float().cpu().numpy() for name, value in zip(self.graph.output_names, outputs)
        }
