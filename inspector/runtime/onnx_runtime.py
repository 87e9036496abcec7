"""``onnx``: run the inference graph with ONNX Runtime (CPU), and export graphs to ONNX files.

The runner exports the graph of the loaded checkpoint in memory when it is created (about a
second per model), so ``--runtime onnx`` works with every checkpoint and its graph always
matches the weights; :func:`export_graph` writes the same graph to a file for use elsewhere
(``python -m inspector export onnx``).
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import numpy as np
import torch

from core.errors import ConfigError
from inspector.runtime.base import ModelRunner, register_runtime
from inspector.runtime.graphs import InferenceGraph

log = logging.getLogger(__name__)

__all__ = ["OPSET", "OnnxRunner", "export_graph"]

#: ONNX opset of exported graphs.
OPSET = 17


def export_graph(graph: InferenceGraph, f: str | Path | IO[bytes]) -> None:
    """Write ``graph`` as an ONNX model with a dynamic batch dimension.

    Args:
        graph: The graph (weights on CPU, eval mode).
        f: Output path or binary file object.
    """
    graph = graph.eval()
    dynamic = {name: {0: "batch"} for name in (*graph.input_names, *graph.output_names)}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python values read from shapes
        torch.onnx.export(
            graph,
            graph.example_inputs(batch=2),
            f,
            input_names=list(graph.input_names),
            output_names=list(graph.output_names),
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )


def _threads(threads: int | None) -> int:
    if threads is not None:
        return max(0, int(threads))
    try:
        return max(0, int(os.environ.get("OMP_NUM_THREADS", "0")))
    except ValueError:
        return 0


@register_runtime("onnx")
class OnnxRunner(ModelRunner):
    """ONNX Runtime on CPU (exported in memory at load; CAM explanations keep a torch head).

    Args:
        graph: The graph to export and run.
        threads: Intra-op threads (default: ``$OMP_NUM_THREADS``, else ONNX Runtime's choice).

    Raises:
        ConfigError: ``onnxruntime`` is not installed, or the graph cannot be exported.
    """

    def __init__(self, graph: InferenceGraph, threads: int | None = None) -> None:
        super().__init__(graph)
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise ConfigError("the onnx runtime needs the onnxruntime package (pip install onnxruntime)") from exc
        model = self.model_bytes(graph)
        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads(threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        log.info("ONNX Runtime session for %s (%d bytes)", type(graph.model).__name__, len(model))

    def model_bytes(self, graph: InferenceGraph) -> bytes:
        """The serialised ONNX model the session runs: ``graph`` exported as it is. Override this.

        Raises:
            ConfigError: The graph cannot be exported.
        """
        buffer = io.BytesIO()
        try:
            export_graph(graph, buffer)
        except Exception as exc:  # the exporter raises many types; one clear sentence for the user
            raise ConfigError(f"{type(graph.model).__name__} cannot be exported to ONNX ({exc})") from exc
        return buffer.getvalue()

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the session (thread-safe) and return the named outputs."""
        outputs = self.session.run(list(self.graph.output_names), self.check_inputs(inputs))
        return dict(zip(self.graph.output_names, outputs))
