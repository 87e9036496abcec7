"""The runner interface and the runtime registry.

A runner executes one :class:`~inspector.runtime.graphs.InferenceGraph`: a dict of named
``float32`` numpy arrays in, a dict of named numpy arrays out. Runners keep no per-call state
and may be shared by threads (a torch module without gradients and an ONNX Runtime session
both allow concurrent calls).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from core.errors import ConfigError
from core.registry import Registry

if TYPE_CHECKING:
    from inspector.runtime.graphs import InferenceGraph

__all__ = ["DEFAULT_RUNTIME", "RUNTIMES", "ModelRunner", "create_runner", "list_runtimes", "register_runtime"]

#: The runtime used unless a setting or ``--runtime`` says otherwise.
DEFAULT_RUNTIME = "torch"


class ModelRunner:
    """Runs one inference graph. Subclasses implement :meth:`run`.

    Args:
        graph: The graph to run (its weights are those of the loaded checkpoint).

    Attributes:
        graph: The graph (torch module; also what the ONNX runner exports).
        name: Registered runtime name (set by :func:`register_runtime`).
    """

    name: ClassVar[str] = ""

    def __init__(self, graph: InferenceGraph) -> None:
        self.graph = graph

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the graph on a batch.

        Args:
            inputs: One array per name of ``graph.input_names`` (batch first, ``float32``).

        Returns:
            One array per name of ``graph.output_names``.
        """
        raise NotImplementedError

    def check_inputs(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The inputs the graph takes, as contiguous ``float32`` arrays (extra names dropped).

        Raises:
            ConfigError: A required input is missing (a programming error of the caller).
        """
        missing = [name for name in self.graph.input_names if name not in inputs]
        if missing:
            raise ConfigError(f"{type(self.graph).__name__} needs input(s) {', '.join(missing)}")
        return {
            name: np.ascontiguousarray(inputs[name], dtype=np.float32) for name in self.graph.input_names
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.graph).__name__})"


RUNTIMES: Registry[type[ModelRunner]] = Registry(
    "runtime",
    "inspector.runtime",
    unknown="unknown runtime {name!r}; choose one of {known}",
)


def register_runtime(name: str, *, priority: int = 0) -> Callable[[type[ModelRunner]], type[ModelRunner]]:
    """Class decorator that makes a :class:`ModelRunner` available as runtime ``name``."""
    return RUNTIMES.register(name, priority=priority)


def list_runtimes() -> list[str]:
    """Names of the registered runtimes (``onnx``, ``torch``, ...)."""
    return RUNTIMES.names()


def create_runner(name: str | None, graph: InferenceGraph, **options) -> ModelRunner:
    """The runner of runtime ``name`` (default :data:`DEFAULT_RUNTIME`) for ``graph``.

    Raises:
        ConfigError: Unknown runtime, or a runtime whose package is not installed.
    """
    return RUNTIMES.create(name or DEFAULT_RUNTIME, graph, **options)
