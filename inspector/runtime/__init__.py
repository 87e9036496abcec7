"""Model runtimes: where the predictors' inference graphs run (torch in-process, ONNX Runtime).

A predictor describes its model's inference as an :class:`~inspector.runtime.graphs.InferenceGraph`
(named numpy inputs -> named numpy outputs) and hands it to :func:`create_runner`; the runner of
the chosen runtime executes it. Adding a runtime is one module in this package with
``@register_runtime("name")`` (``python -m inspector list runtime``).
"""

from inspector.runtime.base import (
    DEFAULT_RUNTIME,
    RUNTIMES,
    ModelRunner,
    create_runner,
    list_runtimes,
    register_runtime,
)

__all__ = ["DEFAULT_RUNTIME", "RUNTIMES", "ModelRunner", "create_runner", "list_runtimes", "register_runtime"]
