"""``onnx_int8``: ONNX Runtime with the convolutions of the CT graph quantised to int8.

Static quantisation (QDQ, per-channel int8 weights, uint8 activations) with activation ranges
measured on real model inputs: the predictor hands the runner preprocessed calibration slices
(``InspectorSettings.int8_calibration``, by default the shipped samples in ``assets/ct``). On a CPU
with VNNI the CT graph then runs about 3x faster than in float32 and keeps 99.7 % of its
labels (the agreement with float32 is measured in ``benchmarks/bench_runtime.py``). Graphs that
are not :attr:`~inspector.runtime.graphs.InferenceGraph.int8_quantisable` (the RGB and GAIN
graphs: their error maps drift and they gain nothing) run in float32 as with ``onnx``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from core.errors import ConfigError
from inspector.runtime.base import register_runtime
from inspector.runtime.graphs import InferenceGraph
from inspector.runtime.onnx_runtime import OnnxRunner

log = logging.getLogger(__name__)

__all__ = ["QUANTISED_OPS", "OnnxInt8Runner"]

#: ONNX operators quantised; everything else (linear head, softmax, reductions) stays float32.
QUANTISED_OPS = ("Conv", "Relu", "MaxPool", "Add", "Resize")


@register_runtime("onnx_int8")
class OnnxInt8Runner(OnnxRunner):
    """ONNX Runtime on CPU with the graph's convolutions in int8 (the rest stays float32).

    Args:
        graph: The graph to export, quantise and run.
        threads: Intra-op threads (default: ``$OMP_NUM_THREADS``, else ONNX Runtime's choice).
        calibration: Model inputs (one dict of named arrays per sample, batch dimension 1) whose
            activation ranges fix the quantisation; needed for quantisable graphs.

    Raises:
        ConfigError: A quantisable graph without calibration inputs, or a failed quantisation.
    """

    #: Predictors pass ``calibration=`` to runtimes that declare this.
    needs_calibration = True

    def __init__(
        self,
        graph: InferenceGraph,
        threads: int | None = None,
        calibration: Sequence[Mapping[str, np.ndarray]] | None = None,
    ) -> None:
        self.calibration = list(calibration or [])
        self.quantised = False  # set when the session runs a quantised graph
        if graph.int8_quantisable and not self.calibration:
            raise ConfigError(
                f"the onnx_int8 runtime needs calibration slices for {type(graph.model).__name__}: "
                "set int8_calibration (a folder of CT slices, e.g. assets/ct)"
            )
        super().__init__(graph, threads)

    def model_bytes(self, graph: InferenceGraph) -> bytes:
        """``graph`` exported and, if quantisable, quantised on :attr:`calibration`."""
        model = super().model_bytes(graph)
        if not graph.int8_quantisable:
            return model
        from onnxruntime.quantization import (
            CalibrationDataReader,
            QuantFormat,
            QuantType,
            quantize_static,
        )
        from onnxruntime.quantization.shape_inference import quant_pre_process

        samples = self.calibration

        class _Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self._it: Iterator[Mapping[str, np.ndarray]] = iter(samples)

            def get_next(self) -> dict[str, np.ndarray] | None:
                sample = next(self._it, None)
                if sample is None:
                    return None
                return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sample.items()}

        with tempfile.TemporaryDirectory(prefix="onnx_int8_") as tmp:
            plain, prepared, quantised = (Path(tmp) / n for n in ("f32.onnx", "pre.onnx", "int8.onnx"))
            plain.write_bytes(model)
            try:
                quant_pre_process(str(plain), str(prepared), skip_symbolic_shape=True)
                quantize_static(
                    str(prepared),
                    str(quantised),
                    _Reader(),
                    quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8,
                    per_channel=True,
                    # the convolutional trunk only (its pools, sums and upsampling stay int8, so no
                    # float round trips between convolutions); quantising the head and the attention
                    # pooling as well moved 9 % of labels instead of 0.3 % (docs/scaling.md)
                    op_types_to_quantize=list(QUANTISED_OPS),
                )
            except Exception as exc:  # the quantiser raises many types; one sentence for the user
                raise ConfigError(f"{type(graph.model).__name__} cannot be quantised to int8 ({exc})") from exc
            log.info("int8 graph of %s calibrated on %d inputs", type(graph.model).__name__, len(samples))
            self.quantised = True
            return quantised.read_bytes()
