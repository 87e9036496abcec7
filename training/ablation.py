"""The GAIN-MTL ablation: train strategies S1-S8, evaluate each on ``test`` and ``test_shift``.

``python -m inspector ablate --data data/shortcut0 --eval-data data/shortcut1 --out runs/ablation``

Every (strategy, seed) run lives in ``OUT/runs/<strategy>_seed<k>/`` and ends with a
``result.json``; a run with a result is skipped when the command is started again, so an
interrupted ablation resumes where it stopped. ``workers > 1`` trains that many runs at once, each
in its own process with one thread (on a 2-core machine two one-thread runs finish in about the
time of one two-thread run). When all runs are done the report is written:

    OUT/ablation.md      the seed 001 section 2 table (test) + a test_shift column block
    OUT/results.json     every metric of every run, the aggregates, the timings
    OUT/ablation.html    plotly chart (and ablation.png when kaleido can render)
    OUT/gallery.png      the same defect images, one row per strategy: attention + mask outline
    OUT/gallery_<S>.png  the gallery row of one strategy, larger
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError, InputError

log = logging.getLogger(__name__)

__all__ = ["AblationPlan", "METRICS", "run_ablation", "write_report"]

CONFIG_DIR = Path(__file__).parent / "configs" / "gain"

#: (result key, row label of seed 001's table)
METRICS: tuple[tuple[str, str], ...] = (
    ("accuracy", "Accuracy"),
    ("recall", "Recall"),
    ("cam_iou", "CAM-IoU"),
    ("point_game", "PointGame"),
    ("energy_inside", "Energy-Inside"),
    ("loc_iou", "Loc-IoU"),
)
EVAL_SPLITS = ("test", "test_shift")


@dataclass
class AblationPlan:
    """What to run.

    Attributes:
        strategies: Preset names, each a file ``<config_dir>/<name>.yaml``.
        seeds: Seeds run for every strategy.
        extra_seeds: Additional seeds for the strategies in ``multi_seed`` (key strategies).
        multi_seed: Strategies that also run ``extra_seeds``.
        overrides: Dotted config overrides applied to every run (``train.epochs``, ``data.limit``).
        config_dir: Folder of the presets.
        gallery_images: Defect images in the CAM gallery.
    """

    strategies: Sequence[str] = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8")
    seeds: Sequence[int] = (0,)
    extra_seeds: Sequence[int] = ()
    multi_seed: Sequence[str] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict)
    config_dir: Path = CONFIG_DIR
    gallery_images: int = 6

    def runs(self) -> list[tuple[str, int]]:
        """``(strategy, seed)`` pairs in run order: every strategy first, extra seeds after."""
        pairs = [(s, seed) for seed in self.seeds for s in self.strategies]
        pairs += [(s, seed) for seed in self.extra_seeds for s in self.strategies if s in self.multi_seed]
        return list(dict.fromkeys(pairs))

    def config_path(self, strategy: str) -> Path:
        """The preset file of ``strategy``.

        Raises:
            ConfigError: If it does not exist.
        """
        path = Path(self.config_dir) / f"{strategy}.yaml"
        if not path.is_file():
            known = sorted(p.stem for p in Path(self.config_dir).glob("S*.yaml"))
            raise ConfigError(
                f"unknown strategy {strategy!r}; presets in {self.config_dir}: {', '.join(known)}"
            )
        return path


def _cached_splits(data_dir: Path, eval_dir: Path, config: Any) -> dict[str, Any]:
    from training.tasks.gain import GainSplit

    d = config.data
    splits = {
        "train": GainSplit(data_dir, d.train_split, d.input_size, d.augment, d.limit),
        "val": GainSplit(data_dir, d.val_split, d.input_size, "none", d.val_limit),
    }
    for split in EVAL_SPLITS:
        try:
            splits[split] = GainSplit(eval_dir, split, d.input_size, "none")
        except InputError as exc:
            raise InputError(
                f"{eval_dir} has no {split} split; make it with synth --shortcut P ({exc})"
            ) from exc
    return splits


def _gallery_indices(split: Any, n: int) -> list[int]:
    """The first ``n`` defect images with a mask, spread over the split (same for every run)."""
    has_mask = (split.masks.flatten(1).sum(1) > 0) & (split.is_defect > 0)
    candidates = np.flatnonzero(has_mask.numpy())
    if len(candidates) <= n:
        return candidates.tolist()
    return candidates[np.linspace(0, len(candidates) - 1, n).round().astype(int)].tolist()


def _gallery_panels(model: Any, card: Mapping[str, Any], split: Any, indices: Sequence[int]) -> np.ndarray:
    """One row of RGB panels: image with attention (red) and mask outline (green)."""
    import cv2
    import torch

    from training.tasks.gain import predict_maps

    images = split.images[list(indices)]
    maps = predict_maps(model, card, images)
    panels = []
    for k, idx in enumerate(indices):
        gray = images[k, 0].numpy()
        att = maps["attention"][k, 0].numpy()
        rgb = np.stack([gray, gray, gray], -1) * 0.7
        rgb[..., 0] = np.clip(rgb[..., 0] + 0.8 * att, 0, 1)
        rgb = (rgb * 255).astype(np.uint8)
        mask = split.masks[idx, 0].numpy().astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(rgb, contours, -1, (0, 255, 0), 1)
        prob = float(maps["prob"][k])
        big = cv2.resize(rgb, (rgb.shape[1] * 2, rgb.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
        cv2.putText(big, f"p={prob:.2f}", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1)
        panels.append(big)
    del torch
    return np.concatenate(panels, axis=1) if panels else np.zeros((8, 8, 3), np.uint8)


def _run_one(
    plan: AblationPlan, strategy: str, seed: int, data_dir: Path, splits: Mapping[str, Any], out: Path
) -> dict[str, Any]:
    import cv2

    from training.tasks.gain import evaluate, load_gain_config, load_gain_model, train

    run_dir = out / "runs" / f"{strategy}_seed{seed}"
    overrides = {**dict(plan.overrides), "train.seed": seed}
    config = load_gain_config(plan.config_path(strategy), overrides)
    start = time.perf_counter()
    summary = train(config, data_dir, run_dir, splits={"train": splits["train"], "val": splits["val"]})
    train_s = time.perf_counter() - start
    model, card = load_gain_model(summary.last_path)
    metrics = {split: evaluate(model, card, splits[split]) for split in EVAL_SPLITS}
    row = _gallery_panels(model, card, splits["test"], _gallery_indices(splits["test"], plan.gallery_images))
    cv2.imwrite(str(run_dir / "gallery.png"), cv2.cvtColor(row, cv2.COLOR_RGB2BGR))
    epoch_times = [h.get("time_s", float("nan")) for h in summary.history]
    result = {
        "strategy": strategy,
        "seed": seed,
        "description": config.description,
        "metrics": metrics,
        "train_seconds": train_s,
        "total_seconds": time.perf_counter() - start,
        "epochs": summary.epochs_run,
        "seconds_per_epoch": float(np.mean(epoch_times)) if epoch_times else None,
        "checkpoint": str(summary.last_path),
        "threshold": card.get("threshold"),
        "losses": {k: v.weight for k, v in config.loss_terms().items()},
        "curriculum_alpha_start": config.curriculum.alpha_start,
    }
    (run_dir / "result.json").write_text(json.dumps(result, indent=2))
    return result


def _run_all(
    plan: AblationPlan,
    todo: Sequence[tuple[str, int]],
    data_dir: Path,
    splits: Mapping[str, Any],
    out: Path,
    workers: int,
) -> Iterator[dict[str, Any]]:
    """Yield the result of every ``(strategy, seed)`` in ``todo`` as it finishes."""
    if workers <= 1 or len(todo) <= 1:
        for strategy, seed in todo:
            yield _run_one(plan, strategy, seed, data_dir, splits, out)
        return
    # spawn, not fork: a forked child inherits the parent's OpenMP thread pool state
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_quiet_worker) as pool:
        futures = [pool.submit(_run_one, plan, s, seed, data_dir, splits, out) for s, seed in todo]
        for future in as_completed(futures):
            yield future.result()


def _quiet_worker() -> None:
    """Worker processes log warnings only (the parent reports each finished run)."""
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def run_ablation(
    data_dir: str | Path,
    out_dir: str | Path,
    plan: AblationPlan | None = None,
    eval_dir: str | Path | None = None,
    progress: bool = True,
    workers: int = 1,
) -> dict[str, Any]:
    """Train and evaluate every run of ``plan`` (skipping finished ones), then write the report.

    Args:
        data_dir: Training dataset (made with ``synth --shortcut P``).
        out_dir: Output folder.
        plan: Strategies, seeds and overrides (default: S1-S8, seed 0).
        eval_dir: Dataset whose ``test`` and ``test_shift`` splits are evaluated (default:
            ``data_dir``); use a dataset from another synth seed for held-out batteries.
        progress: Show a progress bar over the runs.
        workers: Runs trained in parallel (separate processes; results do not depend on it).

    Returns:
        The aggregated results (also written to ``results.json``).
    """
    from tqdm.auto import tqdm

    from training.tasks.gain import load_gain_config

    plan = plan or AblationPlan()
    data_dir, out = Path(data_dir), Path(out_dir)
    eval_dir = Path(eval_dir) if eval_dir else data_dir
    out.mkdir(parents=True, exist_ok=True)
    runs = plan.runs()
    for strategy in dict.fromkeys(s for s, _ in runs):
        plan.config_path(strategy)  # fail on a typo before any training
    results: list[dict[str, Any]] = []
    start = time.perf_counter()
    todo = []
    for strategy, seed in runs:
        done = out / "runs" / f"{strategy}_seed{seed}" / "result.json"
        if done.is_file():
            results.append(json.loads(done.read_text()))
            log.info("%s seed %d already done; skipping", strategy, seed)
        else:
            todo.append((strategy, seed))
    if todo:
        first = load_gain_config(plan.config_path(todo[0][0]), plan.overrides)
        splits = _cached_splits(data_dir, eval_dir, first)
        bar = tqdm(total=len(todo), desc="ablation", disable=not progress, dynamic_ncols=True)
        for result in _run_all(plan, todo, data_dir, splits, out, workers):
            bar.update(1)
            bar.set_postfix(done=f"{result['strategy']}/seed{result['seed']}")
            log.info(
                "%s seed %d: %.0f s (%.1f s/epoch); test acc %.3f cam_iou %s; shift acc %.3f",
                result["strategy"], result["seed"], result["total_seconds"], result["seconds_per_epoch"] or float("nan"),
                result["metrics"]["test"]["accuracy"], _fmt(result["metrics"]["test"]["cam_iou"]),
                result["metrics"]["test_shift"]["accuracy"],
            )  # fmt: skip
            results.append(result)
        bar.close()
    order = {run: i for i, run in enumerate(runs)}
    results.sort(key=lambda r: order.get((r["strategy"], r["seed"]), len(order)))
    summary = aggregate(results, plan)
    summary.update(
        data=str(data_dir), eval_data=str(eval_dir), overrides=dict(plan.overrides), workers=workers
    )
    wall = time.perf_counter() - start
    # wall time of the whole ablation: only known when this call trained every run
    summary["wall_seconds"] = wall if len(todo) == len(runs) else None
    summary["sessions"] = _sessions(out / "results.json", len(todo), workers, wall)
    write_report(summary, out)
    return summary


def _sessions(previous: Path, trained: int, workers: int, wall_seconds: float) -> list[dict[str, Any]]:
    """The calls that trained this ablation's runs: the earlier ones (from ``previous``) and this one.

    A resumed or extended ablation (e.g. more seeds of the key strategies) keeps the wall time of
    every call that trained something, so the report still says what the runs cost.
    """
    sessions: list[dict[str, Any]] = []
    if previous.is_file():
        try:
            old = json.loads(previous.read_text())
        except (OSError, json.JSONDecodeError):
            old = {}
        sessions = list(old.get("sessions") or [])
        if not sessions and old.get("wall_seconds"):  # written before sessions were recorded
            runs = len(old.get("runs") or [])
            sessions = [{"runs": runs, "workers": old.get("workers", 1), "wall_seconds": old["wall_seconds"]}]
    if trained:
        sessions.append({"runs": trained, "workers": workers, "wall_seconds": wall_seconds})
    return sessions


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def aggregate(results: Sequence[Mapping[str, Any]], plan: AblationPlan) -> dict[str, Any]:
    """Mean, standard deviation and seed count of every metric per strategy and split."""
    table: dict[str, Any] = {}
    for strategy in plan.strategies:
        rows = [r for r in results if r["strategy"] == strategy]
        if not rows:
            continue
        entry: dict[str, Any] = {
            "seeds": [r["seed"] for r in rows],
            "description": rows[0].get("description", ""),
            "seconds": float(np.mean([r["total_seconds"] for r in rows])),
            "seconds_per_epoch": float(np.mean([r["seconds_per_epoch"] or np.nan for r in rows])),
            "threshold": float(np.mean([r.get("threshold", 0.5) for r in rows])),
        }
        for split in EVAL_SPLITS:
            stats = {}
            for key, _ in (*METRICS, ("f1", "F1")):
                values = [r["metrics"][split].get(key) for r in rows]
                values = [v for v in values if v is not None]
                if values:
                    stats[key] = {
                        "mean": float(np.mean(values)),
                        "std": float(np.std(values)),
                        "n": len(values),
                    }
            entry[split] = stats
        table[strategy] = entry
    return {"strategies": table, "runs": list(results), "metrics": [k for k, _ in METRICS]}


def _cell(stats: Mapping[str, Any] | None) -> str:
    if not stats:
        return "-"
    if stats["n"] > 1:
        return f"{stats['mean']:.3f} ± {stats['std']:.3f}"
    return f"{stats['mean']:.3f}"


def markdown_table(summary: Mapping[str, Any]) -> str:
    """Seed 001 section 2 layout (metrics x strategies) for ``test``, then a ``test_shift`` block."""
    table = summary["strategies"]
    names = list(table)
    header = (
        "| Metric | "
        + " | ".join(f"{s}" for s in names)
        + " | "
        + " | ".join(f"{s} shift" for s in names)
        + " |"
    )
    sep = "|---" * (1 + 2 * len(names)) + "|"
    lines = [header, sep]
    for key, label in METRICS:
        test = [_cell(table[s]["test"].get(key)) for s in names]
        shift = [_cell(table[s]["test_shift"].get(key)) for s in names]
        lines.append(f"| **{label}** | " + " | ".join(test) + " | " + " | ".join(shift) + " |")
    drop = []
    for s in names:
        a, b = table[s]["test"].get("accuracy"), table[s]["test_shift"].get("accuracy")
        drop.append(f"{(a['mean'] - b['mean']) * 100:+.1f} pt" if a and b else "-")
    lines.append("| Acc. lost on shift | " + " | ".join(drop) + " |" + " |" * len(names))
    thresholds = [f"{table[s].get('threshold', float('nan')):.2f}" for s in names]
    lines.append("| Decision threshold | " + " | ".join(thresholds) + " |" + " |" * len(names))
    secs = [f"{table[s]['seconds']:.0f} s ({table[s]['seconds_per_epoch']:.1f} s/ep)" for s in names]
    lines.append("| Time / run | " + " | ".join(secs) + " |" + " |" * len(names))
    seeds = [",".join(str(x) for x in table[s]["seeds"]) for s in names]
    lines.append("| Seeds | " + " | ".join(seeds) + " |" + " |" * len(names))
    if summary.get("wall_seconds"):
        workers = summary.get("workers", 1)
        lines += ["", f"Whole ablation: {summary['wall_seconds'] / 60:.1f} min wall with {workers} worker(s)."]
    elif summary.get("sessions"):
        calls = "; ".join(
            f"{c['runs']} run(s) in {c['wall_seconds'] / 60:.1f} min with {c['workers']} worker(s)"
            for c in summary["sessions"]
        )
        lines += ["", f"Trained over {len(summary['sessions'])} call(s): {calls}."]
    return "\n".join(lines)


def _chart(summary: Mapping[str, Any], out: Path) -> None:
    import plotly.graph_objects as go

    table = summary["strategies"]
    names = list(table)
    fig = go.Figure()
    for key, label in METRICS:
        fig.add_bar(
            name=label,
            x=names,
            y=[(table[s]["test"].get(key) or {}).get("mean") for s in names],
            error_y={
                "type": "data",
                "array": [(table[s]["test"].get(key) or {}).get("std", 0) for s in names],
            },
        )
    fig.add_scatter(
        name="Accuracy on test_shift",
        x=names,
        y=[(table[s]["test_shift"].get("accuracy") or {}).get("mean") for s in names],
        mode="markers+lines",
        marker={"symbol": "diamond", "size": 11, "color": "black"},
    )
    fig.update_layout(
        title="GAIN-MTL strategies: classification and localisation on held-out test (bars), accuracy on test_shift (line)",
        barmode="group",
        yaxis={"range": [0, 1.05], "title": "score"},
        template="plotly_white",
        width=1200,
        height=550,
    )
    fig.write_html(str(out / "ablation.html"), include_plotlyjs="cdn")
    try:
        fig.write_image(str(out / "ablation.png"))
    except Exception as exc:  # plotly's kaleido bridge unavailable: draw the PNG with matplotlib
        log.info("plotly could not export PNG (%s); using matplotlib", str(exc).splitlines()[0])
        _chart_png(summary, out / "ablation.png")


def _chart_png(summary: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = summary["strategies"]
    names = list(table)
    x = np.arange(len(names))
    width = 0.8 / len(METRICS)
    fig, ax = plt.subplots(figsize=(12, 5))
    for i, (key, label) in enumerate(METRICS):
        values = [(table[s]["test"].get(key) or {}).get("mean", np.nan) for s in names]
        ax.bar(x + (i - len(METRICS) / 2 + 0.5) * width, values, width, label=label)
    shift = [(table[s]["test_shift"].get("accuracy") or {}).get("mean", np.nan) for s in names]
    ax.plot(x, shift, "kD-", label="Accuracy on test_shift")
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title("GAIN-MTL strategies on held-out test (bars) and accuracy on test_shift (line)")
    ax.legend(ncol=4, fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _gallery(summary: Mapping[str, Any], out: Path) -> None:
    import cv2

    rows = []
    for strategy in summary["strategies"]:
        seed = summary["strategies"][strategy]["seeds"][0]
        path = out / "runs" / f"{strategy}_seed{seed}" / "gallery.png"
        row = cv2.imread(str(path))
        if row is None:
            continue
        label = np.zeros((row.shape[0], 60, 3), np.uint8)
        cv2.putText(
            label, strategy, (8, row.shape[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2
        )
        full = np.concatenate([label, row], axis=1)
        cv2.imwrite(str(out / f"gallery_{strategy}.png"), full)
        rows.append(full)
    if rows:
        width = max(r.shape[1] for r in rows)
        rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
        cv2.imwrite(str(out / "gallery.png"), np.concatenate(rows, axis=0))


def write_report(summary: Mapping[str, Any], out: str | Path) -> None:
    """Write ``ablation.md``, ``results.json``, the chart and the galleries into ``out``."""
    out = Path(out)
    (out / "results.json").write_text(json.dumps(summary, indent=2, default=str))
    text = [
        "# GAIN-MTL ablation",
        "",
        f"Training data: `{summary.get('data')}`; evaluated on the `test` and `test_shift` splits of "
        f"`{summary.get('eval_data')}`. Overrides: `{json.dumps(summary.get('overrides') or {})}`.",
        "Metric definitions: `training/metrics/localisation.py`. Cells with several seeds are mean ± std.",
        "",
        markdown_table(summary),
        "",
        "![chart](ablation.png)",
        "",
        "CAM gallery (same held-out defect images per strategy; red = attention, green = mask outline):",
        "",
        "![gallery](gallery.png)",
        "",
    ]
    (out / "ablation.md").write_text("\n".join(text), encoding="utf-8")
    _chart(summary, out)
    _gallery(summary, out)
