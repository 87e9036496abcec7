"""Export a checkpoint's inference graph to an ONNX file with its card (``python -m inspector export onnx``)."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from core.errors import InputError

__all__ = ["export_onnx"]

log = logging.getLogger(__name__)


def export_onnx(checkpoint: str | Path, out: str | Path) -> dict[str, Any]:
    """Write ``OUT.onnx`` and its card ``OUT.json`` for a CT, GAIN or RGB checkpoint.

    The card is the checkpoint's card plus an ``onnx`` block: opset, input and output names and
    per-sample shapes, the file's SHA-256 and the checkpoint it came from. The graph is the one
    ``--runtime onnx`` runs (:mod:`inspector.runtime.graphs`), preprocessing excluded.

    Args:
        checkpoint: ``NAME.safetensors`` (or its card / stem).
        out: The ``.onnx`` file to write.

    Returns:
        The written card.

    Raises:
        InputError: ``out`` does not end in ``.onnx`` or its card would overwrite the checkpoint's.
        CheckpointError: Unreadable checkpoint or one without an exportable graph.
    """
    from core.errors import CheckpointError
    from inspector.predictors import load_predictor
    from inspector.runtime.onnx_runtime import OPSET, export_graph

    out = Path(out)
    if out.suffix != ".onnx":
        raise InputError(f"the ONNX file name must end in .onnx, got {out.name}")
    card_path = out.with_suffix(".json")
    source = Path(checkpoint)
    if card_path.resolve() == source.with_suffix(".json").resolve():
        raise InputError(f"{card_path} is the checkpoint's own card; write the ONNX file under another name")
    predictor = load_predictor(source, runtime="torch")
    graph = predictor.runner.graph if predictor.runner is not None else None
    if graph is None:
        raise CheckpointError(f"{source.name}: this {predictor.task} model has no exportable graph")
    out.parent.mkdir(parents=True, exist_ok=True)
    export_graph(graph, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    card = dict(predictor.card)
    card["onnx"] = {
        "opset": OPSET,
        "inputs": {name: ["batch", *graph.input_shapes[name]] for name in graph.input_names},
        "outputs": list(graph.output_names),
        "sha256": digest,
        "exported_from": source.with_suffix(".safetensors").name,
        "preprocessing": "as the card: input_size, normalisation, preprocessing (crop, intensity)",
    }
    card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False), encoding="utf-8")
    log.info("wrote %s and %s", out, card_path)
    return card
