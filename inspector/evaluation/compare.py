"""The comparison bench: the inspector, VLMs, VLGs and every VLM x VLG pair on labelled pairs.

Every system gives one of the four verdicts per labelled CT+RGB pair of a dataset
(:mod:`inspector.pairs`); the bench scores them against the truth (accuracy, macro F1, defect
and normal recall, box recall at IoU 0.3 where boxes are given, latency percentiles, errors,
estimated tokens of paid APIs) and measures how much they agree (pairwise Cohen's kappa).

- The inspector's verdict comes from :meth:`Inspector.analyse`.
- A VLM's verdict is its finding's ``verdict``; in ``blind`` mode a model sees only the images
  and the battery metadata (a writer that is not a model always reads the evidence).
  Answers are cached by image hash + prompt + backend, so a rerun costs nothing; with
  ``paid_only_if_defect`` a paid API is called only when the inspector's verdict is not normal
  (otherwise the inspector's verdict stands for it and the pair counts as ``skipped``).
- A VLG's verdict comes from its boxes (top score per modality against its threshold).
  Text-prompted detectors see the images only; ``model_boxes`` reads the inspector's maps.
- A combination fuses one VLM and one VLG per side: a side is defective when either says so.

A backend failure (HTTP 429/500, malformed answer, timeout, unavailable) is counted in that
system's ``errors`` and scored as a wrong answer; it never stops the bench.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import CheckpointError, ConfigError, InputError, InspectorError
from inspector.evaluation.dataset import match_boxes
from inspector.pairs import BatchItem, items_from_manifest
from inspector.verdict import VERDICTS

log = logging.getLogger(__name__)

__all__ = [
    "IOU_THRESHOLD",
    "Outcome",
    "VLMCache",
    "cohen_kappa",
    "compare_figures",
    "run_compare",
    "verdict_metrics",
    "write_report",
]

IOU_THRESHOLD = 0.3
#: Tokens a Gemini request spends per image (an estimate; small images count as one tile).
TOKENS_PER_IMAGE = 258
ProgressCallback = Callable[[int, int, str], None]


@dataclass
class Outcome:
    """One system's answer on one pair."""

    verdict: str | None = None
    confidence: float | None = None
    boxes: list[dict[str, Any]] | None = None
    latency_ms: float | None = None
    error: str | None = None
    tokens: int | None = None
    cached: bool = False
    skipped: bool = False


@dataclass
class _System:
    name: str
    kind: str
    backend: str | None
    mode: str | None
    outcomes: list[Outcome] = field(default_factory=list)
    gives_boxes: bool = True
    paid: bool = False


# -- metrics ------------------------------------------------------------------------------------
def verdict_metrics(truth: Sequence[str], predicted: Sequence[str | None]) -> dict[str, Any]:
    """Accuracy, macro F1, defect / normal recall and the confusion matrix of verdicts.

    A ``None`` prediction (the system failed) counts as wrong: it lowers accuracy and the
    recall of its true class but is no predicted class.

    Returns:
        ``n``, ``answered``, ``accuracy``, ``macro_f1`` (over the verdicts present in the truth
        or the answers), ``defect_recall`` (true defects called any defect), ``normal_recall``,
        ``confusion_matrix`` (``labels`` and ``rows_true_cols_predicted``; failures excluded).
    """
    index = {v: i for i, v in enumerate(VERDICTS)}
    matrix = np.zeros((len(VERDICTS), len(VERDICTS)), dtype=int)
    failed = np.zeros(len(VERDICTS), dtype=int)
    for t, p in zip(truth, predicted):
        if p is None:
            failed[index[t]] += 1
        else:
            matrix[index[t], index[p]] += 1
    n = len(truth)
    rows = matrix.sum(axis=1) + failed
    cols = matrix.sum(axis=0)
    f1s = []
    for i in range(len(VERDICTS)):
        if rows[i] == 0 and cols[i] == 0:
            continue
        precision = matrix[i, i] / cols[i] if cols[i] else 0.0
        recall = matrix[i, i] / rows[i] if rows[i] else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    n_defect = int(rows[1:].sum())
    return {
        "n": n,
        "answered": int(matrix.sum()),
        "accuracy": _round(np.trace(matrix) / n) if n else None,
        "macro_f1": _round(float(np.mean(f1s))) if f1s else None,
        "defect_recall": _round(matrix[1:, 1:].sum() / n_defect) if n_defect else None,
        "normal_recall": _round(matrix[0, 0] / rows[0]) if rows[0] else None,
        "confusion_matrix": {"labels": list(VERDICTS), "rows_true_cols_predicted": matrix.tolist()},
    }


def cohen_kappa(a: Sequence[str | None], b: Sequence[str | None]) -> tuple[float | None, int]:
    """Cohen's kappa of two raters over the items both answered; ``(kappa, n)``.

    ``kappa`` is 1.0 when both always give the same single label (perfect agreement), ``None``
    when no item was answered by both.
    """
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    n = len(pairs)
    if not n:
        return None, 0
    observed = sum(x == y for x, y in pairs) / n
    labels = {x for x, _ in pairs} | {y for _, y in pairs}
    expected = sum(
        (sum(x == lab for x, _ in pairs) / n) * (sum(y == lab for _, y in pairs) / n) for lab in labels
    )
    if expected >= 1.0:
        return 1.0, n
    return _round((observed - expected) / (1.0 - expected)), n


def _round(value: float) -> float:
    return round(float(value), 4)


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


# -- the VLM answer cache -------------------------------------------------------------------------
def image_hash(*images: np.ndarray | None) -> str:
    """SHA-256 over the pixels, shapes and dtypes of ``images`` (``None`` counts too)."""
    digest = hashlib.sha256()
    for image in images:
        if image is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(image)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


class VLMCache:
    """Findings on disk, keyed by image hash + prompt + backend (+ model and mode).

    Args:
        folder: Cache folder (created on the first write); ``None`` disables the cache.
    """

    def __init__(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder else None

    def key(self, backend: Any, request: Any) -> str:
        """The cache key of ``backend`` answering ``request``."""
        from models.vlm.prompts import BOX_YXYX_1000, build_prompt

        prompt = build_prompt(request, getattr(backend, "box_format", BOX_YXYX_1000))
        parts = [
            image_hash(request.ct_image, request.rgb_image),
            hashlib.sha256(prompt.encode()).hexdigest(),
            backend.name,
            str(getattr(backend, "model", "")),
            request.mode,
        ]
        if not getattr(backend, "is_model", True):  # a writer reads the maps, not a prompt
            parts.append(image_hash(request.ct_attention, request.rgb_error_map))
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached entry ``{finding, latency_ms, tokens}``, or ``None``."""
        if self.folder is None:
            return None
        path = self.folder / f"{key}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Store an entry (a failed write is logged, never raised)."""
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"{key}.json").write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
        except OSError as exc:
            log.warning("could not write the VLM cache in %s: %s", self.folder, exc)


def estimate_tokens(request: Any, answer: dict[str, Any] | None) -> int:
    """Rough token count of one paid call: images, system + user prompt, and the answer (chars/4)."""
    from models.vlm.prompts import SYSTEM_PROMPT, build_prompt, prompt_images

    text = build_prompt(request) + SYSTEM_PROMPT[request.lang]
    out = json.dumps(answer or {}, ensure_ascii=False)
    return TOKENS_PER_IMAGE * len(prompt_images(request)) + (len(text) + len(out)) // 4


# -- the systems -----------------------------------------------------------------------------------
def _run_vlm(
    backend: Any, request: Any, mode: str, cache: VLMCache, skip: bool, fallback: Outcome
) -> Outcome:
    from inspector.pipeline import vlm_request

    if skip:
        return Outcome(fallback.verdict, fallback.confidence, [], 0.0, skipped=True)
    sent, _ = vlm_request(backend, request, mode)
    key = cache.key(backend, sent)
    hit = cache.get(key)
    if hit is not None:
        finding = hit["finding"]
        return Outcome(
            finding["verdict"], finding["confidence"], finding["boxes"], hit.get("latency_ms"),
            tokens=hit.get("tokens"), cached=True,
        )
    status = backend.availability()
    if not status.ok:
        return Outcome(error=status.reason or f"{backend.name} is not available")
    start = time.perf_counter()
    try:
        finding = backend.describe(sent).to_dict()
    except InspectorError as exc:
        return Outcome(error=str(exc), latency_ms=(time.perf_counter() - start) * 1000)
    except Exception as exc:  # a backend bug must not stop the bench
        log.debug("%s failed", backend.name, exc_info=True)
        return Outcome(error=f"{backend.name} failed: {type(exc).__name__}: {exc}")
    latency = (time.perf_counter() - start) * 1000
    tokens = estimate_tokens(sent, finding) if getattr(backend, "paid", False) else None
    cache.put(key, {"finding": finding, "latency_ms": round(latency, 1), "tokens": tokens})
    return Outcome(finding["verdict"], finding["confidence"], finding["boxes"], latency, tokens=tokens)


def _run_vlg(backend: Any, request: Any) -> Outcome:
    sent = request if not getattr(backend, "is_model", True) else request.blind()
    status = backend.availability()
    if not status.ok:
        return Outcome(error=status.reason or f"{backend.name} is not available")
    start = time.perf_counter()
    try:
        boxes = backend.detect(sent)
    except InspectorError as exc:
        return Outcome(error=str(exc), latency_ms=(time.perf_counter() - start) * 1000)
    except Exception as exc:
        log.debug("%s failed", backend.name, exc_info=True)
        return Outcome(error=f"{backend.name} failed: {type(exc).__name__}: {exc}")
    latency = (time.perf_counter() - start) * 1000
    verdict, confidence = backend.verdict(boxes, sent.modalities())
    return Outcome(verdict, confidence, boxes, latency)


def fuse(vlm: Outcome, vlg: Outcome) -> Outcome:
    """One VLM and one VLG combined: per side, a defect when either says so; mean confidence."""
    from models.vlm.verdicts import verdict_from_sides, verdict_sides

    if vlm.error or vlg.error or vlm.verdict is None or vlg.verdict is None:
        return Outcome(error="; ".join(e for e in (vlm.error, vlg.error) if e) or "no verdict")
    a, b = verdict_sides(vlm.verdict), verdict_sides(vlg.verdict)
    verdict = verdict_from_sides(a[0] or b[0], a[1] or b[1])
    confidences = [c for c in (vlm.confidence, vlg.confidence) if c is not None]
    return Outcome(
        verdict,
        round(sum(confidences) / len(confidences), 4) if confidences else None,
        [*(vlm.boxes or []), *(vlg.boxes or [])],
        (vlm.latency_ms or 0.0) + (vlg.latency_ms or 0.0),
        tokens=vlm.tokens,
    )


def _box_recall(items: list[BatchItem], outcomes: list[Outcome], iou: float) -> float | None:
    found = total = 0
    for item, outcome in zip(items, outcomes):
        for side in ("ct", "rgb"):
            truth = getattr(item, f"{side}_boxes") or []
            if not truth or not getattr(item, f"{side}_defect"):
                continue
            predicted = [b["box"] for b in outcome.boxes or [] if b.get("modality", side) == side]
            total += len(truth)
            found += match_boxes(truth, predicted, iou)[0]
    return _round(found / total) if total else None


def _summarise(system: _System, items: list[BatchItem], truth: list[str]) -> dict[str, Any]:
    outcomes = system.outcomes
    metrics = verdict_metrics(truth, [o.verdict if not o.error else None for o in outcomes])
    latencies = [o.latency_ms for o in outcomes if not o.error and not o.skipped and o.latency_ms is not None]
    messages = list(dict.fromkeys(o.error for o in outcomes if o.error))
    tokens = [o.tokens for o in outcomes if o.tokens is not None and not o.cached]
    return {
        "name": system.name,
        "kind": system.kind,
        "backend": system.backend,
        "mode": system.mode,
        "n": metrics["n"],
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "defect_recall": metrics["defect_recall"],
        "normal_recall": metrics["normal_recall"],
        "box_recall_iou30": _box_recall(items, outcomes, IOU_THRESHOLD) if system.gives_boxes else None,
        "latency_ms_p50": _percentile(latencies, 50),
        "latency_ms_p95": _percentile(latencies, 95),
        "errors": sum(bool(o.error) for o in outcomes),
        "tokens": (sum(tokens) if tokens else 0) if system.paid else None,
        "cached": sum(o.cached for o in outcomes),
        "skipped": sum(o.skipped for o in outcomes),
        "error_messages": messages[:5],
        "confusion_matrix": metrics["confusion_matrix"],
    }


# -- the bench -------------------------------------------------------------------------------------
def _split_names(names: str | Sequence[str] | None) -> list[str]:
    if names is None:
        return []
    if isinstance(names, str):
        names = names.split(",")
    return [n.strip() for n in names if n and n.strip() and n.strip() != "none"]


def run_compare(
    data: str | Path,
    *,
    split: str = "test",
    vlms: str | Sequence[str] | None = ("findings_writer",),
    vlgs: str | Sequence[str] | None = ("model_boxes",),
    vlm_mode: str = "blind",
    limit: int | None = None,
    settings: Any | None = None,
    inspector: Any | None = None,
    lang: str = "en",
    cache_dir: str | Path | None = None,
    paid_only_if_defect: bool = False,
    backend_options: dict[str, dict[str, Any]] | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Run the bench over the labelled pairs of ``data`` and return the Compare JSON.

    Args:
        data: Dataset folder (or its ``manifest.csv``).
        split: Manifest split, or ``"all"``.
        vlms: VLM backend names (a list or ``"a,b"``).
        vlgs: VLG backend names.
        vlm_mode: ``"blind"`` or ``"evidence"``.
        limit: At most this many pairs (the first ones in manifest order).
        settings: :class:`InspectorSettings` of the inspector (default checkpoints otherwise).
        inspector: An already loaded inspector (``settings`` is then ignored).
        lang: Language of the VLM findings.
        cache_dir: Folder of the VLM answer cache; ``None`` disables it.
        paid_only_if_defect: Call a paid VLM only when the inspector's verdict is not normal.
        backend_options: Per-backend constructor options (``{name: {option: value}}``).
        on_progress: Called as ``on_progress(done, total, item_id)`` after each pair.

    Returns:
        ``systems`` (one summary per system), ``agreement`` (pairwise Cohen's kappa),
        ``items`` (truth and every system's verdict per pair), and the run's parameters.

    Raises:
        InputError: No labelled pairs, or a bad mode / limit.
        ConfigError: An unknown backend name.
        CheckpointError: The inspector lacks its CT or RGB model.
    """
    from core.imageio import load_image
    from models.vlg import create_vlg
    from models.vlm import create_vlm

    if vlm_mode not in ("blind", "evidence"):
        raise InputError(f"--vlm-mode must be blind or evidence, not {vlm_mode!r}")
    if limit is not None and limit < 1:
        raise InputError("--limit must be a positive number of pairs")
    items = [it for it in items_from_manifest(Path(data), split, paired_only=True) if it.expected]
    if not items:
        raise InputError(f"{data} has no labelled CT+RGB pairs (rows sharing a pair_id) in split {split!r}")
    items = items[:limit] if limit else items
    options = backend_options or {}
    vlm_names, vlg_names = _split_names(vlms), _split_names(vlgs)
    try:
        vlm_backends = {n: create_vlm(n, **options.get(n, {})) for n in vlm_names}
        vlg_backends = {n: create_vlg(n, **options.get(n, {})) for n in vlg_names}
    except TypeError as exc:
        raise ConfigError(f"bad backend option: {exc}") from exc
    if inspector is None:
        from inspector.pipeline import Inspector

        inspector = Inspector.load(settings)
    missing = [side for side, p in inspector.predictors.items() if p is None]
    if missing:
        raise CheckpointError("; ".join(inspector.missing.get(s, f"no {s} model") for s in missing))

    systems: dict[str, _System] = {"inspector": _System("inspector", "inspector", "inspector", None)}
    for name, backend in vlm_backends.items():
        mode = vlm_mode if backend.is_model else "evidence"
        systems[name] = _System(name, "vlm", name, mode, paid=bool(getattr(backend, "paid", False)))
    for name in vlg_backends:
        systems[name] = _System(name, "vlg", name, None)
    for a in vlm_backends:
        for b in vlg_backends:
            systems[f"{a}+{b}"] = _System(f"{a}+{b}", "combination", f"{a}+{b}", systems[a].mode,
                                          paid=systems[a].paid)
    cache = VLMCache(cache_dir)
    truth: list[str] = []
    records: list[dict[str, Any]] = []
    for done, item in enumerate(items, start=1):
        truth.append(item.expected)
        outcomes: dict[str, Outcome] = {}
        try:
            ct = load_image(item.ct_path, "ct")
            rgb = load_image(item.rgb_path, "rgb")
            start = time.perf_counter()
            evidence = inspector.analyse(ct, rgb, item.battery_type, item.axis)
            latency = (time.perf_counter() - start) * 1000
            result = evidence.to_dict()
            boxes = [{**b, "modality": s} for s in ("ct", "rgb") for b in (result.get(s) or {}).get("boxes") or []]
            outcomes["inspector"] = Outcome(result["verdict"], result["confidence"], boxes, latency)
            request = evidence.finding_request(lang)
        except InspectorError as exc:
            error = f"{item.id}: {exc}"
            for name in systems:
                systems[name].outcomes.append(Outcome(error=error))
            records.append({"id": item.id, "expected": item.expected, "predicted": {}, "error": error})
            if on_progress:
                on_progress(done, len(items), item.id)
            continue
        for name, backend in vlm_backends.items():
            skip = paid_only_if_defect and systems[name].paid and result["verdict"] == "normal"
            outcomes[name] = _run_vlm(backend, request, vlm_mode, cache, skip, outcomes["inspector"])
        for name, backend in vlg_backends.items():
            outcomes[name] = _run_vlg(backend, request)
        for a in vlm_backends:
            for b in vlg_backends:
                outcomes[f"{a}+{b}"] = fuse(outcomes[a], outcomes[b])
        for name, outcome in outcomes.items():
            if outcome.error:
                outcome.error = f"{item.id}: {outcome.error}"
            systems[name].outcomes.append(outcome)
        records.append(
            {
                "id": item.id,
                "expected": item.expected,
                "predicted": {n: (None if o.error else o.verdict) for n, o in outcomes.items()},
            }
        )
        if on_progress:
            on_progress(done, len(items), item.id)

    summaries = [_summarise(s, items, truth) for s in systems.values()]
    names = list(systems)
    answers = {n: [None if o.error else o.verdict for o in systems[n].outcomes] for n in names}
    agreement = []
    for a, b in combinations(names, 2):
        kappa, n = cohen_kappa(answers[a], answers[b])
        agreement.append({"a": a, "b": b, "kappa": kappa, "n": n})
    return {
        "data": str(data),
        "split": split,
        "vlm_mode": vlm_mode,
        "n_pairs": len(items),
        "labels": list(VERDICTS),
        "systems": summaries,
        "agreement": agreement,
        "items": records,
    }


# -- report ----------------------------------------------------------------------------------------
TABLE_COLUMNS: tuple[str, ...] = (
    "name", "kind", "backend", "mode", "n", "accuracy", "macro_f1", "defect_recall", "normal_recall",
    "box_recall_iou30", "latency_ms_p50", "latency_ms_p95", "errors", "tokens",
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}"
    return str(value).replace("|", "/")


def markdown_table(result: dict[str, Any]) -> str:
    """The systems table and the kappa table as Markdown."""
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
    for system in result["systems"]:
        lines.append("| " + " | ".join(_cell(system.get(c)) for c in TABLE_COLUMNS) + " |")
    lines += ["", "| system A | system B | Cohen's kappa | n |", "|---|---|---|---|"]
    for row in result["agreement"]:
        lines.append(f"| {row['a']} | {row['b']} | {_cell(row['kappa'])} | {row['n']} |")
    return "\n".join(lines)


def kappa_matrix(result: dict[str, Any]) -> tuple[list[str], list[list[float | None]]]:
    """System names and the symmetric kappa matrix (1 on the diagonal)."""
    names = [s["name"] for s in result["systems"]]
    index = {n: i for i, n in enumerate(names)}
    matrix: list[list[float | None]] = [[1.0 if i == j else None for j in names] for i in names]
    for row in result["agreement"]:
        i, j = index[row["a"]], index[row["b"]]
        matrix[i][j] = matrix[j][i] = row["kappa"]
    return names, matrix


def compare_figures(result: dict[str, Any]) -> dict[str, Any]:
    """Plotly figures: ``confusion:<system>`` per system and ``agreement`` (kappa heat map)."""
    import plotly.graph_objects as go

    figures: dict[str, Any] = {}
    labels = result.get("labels", list(VERDICTS))
    for system in result["systems"]:
        matrix = system["confusion_matrix"]["rows_true_cols_predicted"]
        fig = go.Figure(
            go.Heatmap(z=matrix, x=labels, y=labels, colorscale="Blues", text=matrix,
                       texttemplate="%{text}", showscale=False)
        )
        fig.update_layout(
            title=f"{system['name']} ({system['kind']})", xaxis_title="predicted", yaxis_title="true",
            yaxis_autorange="reversed", height=360, margin=dict(l=10, r=10, t=40, b=10),
        )
        figures[f"confusion:{system['name']}"] = fig
    names, kappa = kappa_matrix(result)
    text = [["-" if v is None else f"{v:.2f}" for v in row] for row in kappa]
    fig = go.Figure(
        go.Heatmap(z=kappa, x=names, y=names, zmin=-1, zmax=1, colorscale="RdBu", text=text,
                   texttemplate="%{text}")
    )
    fig.update_layout(title="Agreement (Cohen's kappa)", height=420, margin=dict(l=10, r=10, t=40, b=10))
    figures["agreement"] = fig
    return figures


def write_report(result: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write ``compare.md`` (tables) and ``compare.html`` (interactive plotly figures)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md = out / "compare.md"
    md.write_text(
        f"# System comparison\n\nData: `{result['data']}`, split `{result['split']}`, "
        f"{result['n_pairs']} labelled CT+RGB pairs, VLM mode `{result['vlm_mode']}`.\n\n"
        f"{markdown_table(result)}\n\nFigures: [compare.html](compare.html)\n",
        encoding="utf-8",
    )
    html = out / "compare.html"
    parts = []
    for i, fig in enumerate(compare_figures(result).values()):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
    html.write_text("<html><body>\n" + "\n".join(parts) + "\n</body></html>\n", encoding="utf-8")
    return [md, html]
