"""The ``ray`` engine of ``python -m inspector batch``: Ray Data ``map_batches`` over an actor pool.

Every actor loads the models once (:class:`InspectActor`) and inspects the items of the batches
it is given with the same function as the local engine
(:func:`inspector.commands.batch.inspect_item`), so the rows are the same whichever engine ran
them. Results stream back in input order (``preserve_order``) and are written as they arrive.

A local Ray cluster is started unless ``address`` names an existing one (``ray://...`` or
``HOST:PORT``); on a cluster the project must be installed on every node.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from core.errors import InputError
from inspector.pairs import BatchItem

log = logging.getLogger(__name__)

__all__ = ["InspectActor", "run_ray"]

#: Items per ``map_batches`` call: small, so that a few slow items do not idle other actors.
BATCH_SIZE = 4
#: Ray setting (milliseconds) the driver sets, unless already set, before it starts a local cluster.
AGENT_TIMEOUT_ENV = "RAY_agent_register_timeout_ms"
AGENT_TIMEOUT_MS = 300_000


def _encode(item: BatchItem) -> str:
    values = dataclasses.asdict(item)
    for key in ("ct_path", "rgb_path"):
        values[key] = None if values[key] is None else str(values[key])
    return json.dumps(values)


def _decode(text: str) -> BatchItem:
    from pathlib import Path

    values = json.loads(text)
    for key in ("ct_path", "rgb_path"):
        values[key] = None if values[key] is None else Path(values[key])
    return BatchItem(**values)


class InspectActor:
    """A Ray Data actor: the models loaded once, then one record per item of each batch.

    Args:
        settings: The inspector settings (checkpoints, thresholds, runtime, backends).
        sides: The sides to load (``ct``, ``rgb``).
        lang: Language of written findings.
    """

    def __init__(self, settings: Any, sides: tuple[str, ...], lang: str) -> None:
        from inspector.pipeline import Inspector

        self.inspector = Inspector.load(settings, sides=sides)
        self.lang = lang

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from inspector.commands.batch import inspect_item

        records = [
            json.dumps(inspect_item(self.inspector, _decode(str(text)), self.lang), ensure_ascii=False)
            for text in batch["item"]
        ]
        return {"index": batch["index"], "record": np.array(records, dtype=object)}


def run_ray(
    items: list[BatchItem],
    settings: Any,
    sides: tuple[str, ...],
    lang: str = "en",
    workers: int | None = None,
    address: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> Iterator[dict[str, Any]]:
    """Inspect ``items`` on Ray and yield their records in input order.

    Args:
        items: What to inspect.
        settings: :class:`inspector.settings.InspectorSettings` for every actor.
        sides: Sides whose models the actors load.
        lang: Language of written findings.
        workers: Actors in the pool (one CPU each); default: the cluster's CPUs.
        address: An existing cluster; ``None`` starts a local one with ``workers`` CPUs.
        batch_size: Items per actor call.

    Raises:
        InputError: ``workers`` below 1, or no Ray installed.
    """
    try:
        import ray
        import ray.data
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InputError("--engine ray needs the ray[data] package (pip install 'ray[data]')") from exc
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    started = not ray.is_initialized()
    if started:
        init: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": False}
        if address:
            init["address"] = address
        else:
            init["num_cpus"] = workers or os.cpu_count() or 1
            # Workers import the project like the driver does (an uninstalled checkout too).
            root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
            env = {"PYTHONPATH": path}
            if os.environ.get("INSPECTOR_PLUGINS"):  # plug-in models must register in the actors too
                env["INSPECTOR_PLUGINS"] = os.environ["INSPECTOR_PLUGINS"]
            init["runtime_env"] = {"env_vars": env}
            # The raylet gives up when its metrics agent has not registered within this time;
            # on a loaded 2-core machine that took longer than Ray's default (two failed
            # starts, docs/scaling.md). A value the user set wins.
            os.environ.setdefault(AGENT_TIMEOUT_ENV, str(AGENT_TIMEOUT_MS))
        ray.init(**init)
    try:
        pool = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False  # the batch command shows one bar over the items
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        rows = [{"index": i, "item": _encode(item)} for i, item in enumerate(items)]
        dataset = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), pool * 4)))
        results = dataset.map_batches(
            InspectActor,
            fn_constructor_kwargs={"settings": settings, "sides": sides, "lang": lang},
            compute=ray.data.ActorPoolStrategy(size=pool),
            batch_size=batch_size,
            batch_format="numpy",
            num_cpus=1,
        )
        log.info("ray: %d items on %d actor(s)", len(rows), pool)
        for row in results.iter_rows():
            yield json.loads(row["record"])
    finally:
        if started:
            ray.shutdown()
