"""Process-wide resources, created once and shared by every session (``st.cache_resource``).

Loaded models are read-only after loading, and sessions take :attr:`SharedInspector.lock`
around a forward pass (explanation hooks are not re-entrant), so one instance can serve every
session. Nothing session-specific is cached here.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import streamlit as st

from inspector.history import HistoryStore, default_url
from inspector.pipeline import Inspector, InspectorSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackendOption:
    """A VLM/VLG backend as the sidebar shows it."""

    name: str
    ok: bool
    reason: str


@dataclass
class SharedInspector:
    """A loaded inspector and the lock its sessions hold around a forward pass."""

    inspector: Inspector
    lock: threading.Lock = field(default_factory=threading.Lock)


@st.cache_resource(show_spinner=False, max_entries=4)
def shared_inspector(
    checkpoints_dir: str, ct_checkpoint: str | None, rgb_checkpoint: str | None = None, runtime: str = "torch"
) -> SharedInspector:
    """Load the CT and RGB models once per choice of checkpoints and runtime.

    ``None`` uses the folder's default card of that side. The key is the checkpoints and the
    runtime (``torch`` or ``onnx``) only: thresholds and the verdict policy are per-request
    (:class:`inspector.settings.Thresholds`), so a number typed by one user can neither evict
    nor reload the models every session shares.

    Raises:
        CheckpointError: the chosen checkpoint cannot be loaded.
        ConfigError: an unknown runtime.
    """
    settings = InspectorSettings(
        ct_checkpoint=ct_checkpoint, rgb_checkpoint=rgb_checkpoint, checkpoints_dir=checkpoints_dir, runtime=runtime
    )
    log.info("loading the inspector: %s", settings)
    return SharedInspector(Inspector.load(settings))


@st.cache_resource(show_spinner=False, max_entries=4)
def warm_inspector(
    checkpoints_dir: str, ct_checkpoint: str | None, rgb_checkpoint: str | None = None, runtime: str = "torch"
) -> bool:
    """Load the shared inspector and run one throw-away inspection through it, once per choice.

    The first forward pass pays one-off costs (memory allocation, kernel selection, the
    explanation hooks); paying them at app start takes them off the user's first verdict.
    Returns whether the warm-up inspection ran (a failure is logged, never raised: the real
    inspection reports it).

    Raises:
        CheckpointError: the chosen checkpoint cannot be loaded.
    """
    import numpy as np

    shared = shared_inspector(checkpoints_dir, ct_checkpoint, rgb_checkpoint, runtime)
    rng = np.random.default_rng(0)
    ct = rng.random((256, 256), dtype=np.float32)
    rgb = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    sides = {side: image for side, image in (("ct", ct), ("rgb", rgb)) if shared.inspector.predictors.get(side)}
    if not sides:
        return False
    try:
        with shared.lock:
            shared.inspector.analyse(**sides, battery_type="cell", axis="x")
    except Exception as exc:  # e.g. a model that refuses noise: the first real run pays instead
        log.warning("model warm-up inspection failed: %s", exc)
        return False
    return True


@st.cache_resource(show_spinner=False)
def warm_up() -> bool:
    """Pay the one-off costs of the first inspection up front: plotly and the history database."""
    from inspector.ui import charts

    charts.probability_bars({"warm": 1.0}, "").to_json()
    try:
        history_store()
    except Exception as exc:  # the History page reports it; the inspection works without it
        log.warning("history store unavailable: %s", exc)
    return True


def history_store() -> HistoryStore:
    """The history store of ``INSPECTOR_DB_URL`` (default SQLite ``history.db``), opened once.

    Raises:
        ConfigError: the database URL is invalid or its driver is missing.
    """
    return _history_store(default_url())


@st.cache_resource(show_spinner=False)
def _history_store(url: str) -> HistoryStore:
    return HistoryStore(url)


@st.cache_resource(show_spinner=False, ttl=600)
def backend_options(kind: str) -> list[BackendOption]:
    """Every registered VLM (``kind="vlm"``) or VLG (``kind="vlg"``) backend and its availability.

    Re-checked every ten minutes, so a newly set API key or downloaded model shows up.
    """
    if kind == "vlm":
        from models.vlm import create_vlm as create
        from models.vlm import list_vlms as names
    else:
        from models.vlg import create_vlg as create
        from models.vlg import list_vlgs as names
    options = []
    for name in names():
        try:
            availability = create(name).availability()
            options.append(BackendOption(name, bool(availability.ok), availability.reason))
        except Exception as exc:  # a broken backend must not break the sidebar
            log.warning("cannot check %s backend %s: %s", kind, name, exc)
            options.append(BackendOption(name, False, f"{type(exc).__name__}: {exc}"))
    return options
