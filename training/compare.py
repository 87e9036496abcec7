"""Architecture comparison: train several CT architectures on one budget and tabulate them.

Every architecture gets the same config (data, loss, schedule, epochs) with only
``model.architecture`` (and optional per-architecture ``model.kwargs``) changed, is trained on
one dataset and evaluated on a held-out one. The result is a Markdown table like seed 002's
"성능" section, with per-class F1 and normal-vs-defect metrics::

    python -m training.compare --config training/configs/ct_compare.yaml \\
        --data data/seed0 --eval-data data/seed1 --out runs/compare \\
        --architectures resnet18,late_fusion,cbam,drn_aspp,timm:efficientnet_b0 \\
        --doc docs/ct_architecture_comparison.md

Runs are sequential and resumable: an architecture whose ``eval.json`` exists is not retrained.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from core.errors import InspectorError
from training.config import apply_overrides
from training.tasks.ct import CLASS_NAMES, evaluate, load_ct_config, train

log = logging.getLogger(__name__)

__all__ = ["compare", "comparison_markdown", "main"]


def _safe(name: str) -> str:
    return name.replace(":", "_").replace("/", "_")


def compare(
    config_path: str | Path,
    data_dir: str | Path,
    eval_dir: str | Path,
    out_dir: str | Path,
    architectures: Sequence[str],
    split: str = "test",
    model_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    on_result: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Train and evaluate each architecture; return one result row per architecture.

    Args:
        config_path: Shared CT config (the budget).
        data_dir: Training dataset.
        eval_dir: Held-out dataset evaluated with ``split``.
        out_dir: One run folder per architecture is created inside.
        architectures: Registry names (``timm:<model>`` allowed).
        split: Split of ``eval_dir`` to evaluate.
        model_kwargs: Optional ``model.kwargs`` per architecture.
        on_result: Called with the rows so far after each architecture (e.g. to rewrite the table).

    Returns:
        Rows with ``architecture, n_parameters, train_minutes, images_per_s, best_epoch, val_macro_f1``
        and the evaluation metrics under ``test``.
    """
    out_dir = Path(out_dir)
    rows = []
    for arch in architectures:
        run = out_dir / _safe(arch)
        eval_json = run / "eval.json"
        if eval_json.is_file():
            log.info("%s: already evaluated, reusing %s", arch, eval_json)
            rows.append(json.loads(eval_json.read_text()))
            if on_result is not None:
                on_result(rows)
            continue
        overrides: dict[str, Any] = {"model.architecture": arch}
        overrides["model.kwargs"] = dict((model_kwargs or {}).get(arch, {}))
        config = load_ct_config(config_path)
        config = apply_overrides(config, overrides)
        log.info("=== %s ===", arch)
        start = time.perf_counter()
        summary = train(config, data_dir, run)
        minutes = (time.perf_counter() - start) / 60
        card = json.loads((run / "best.json").read_text())
        metrics = evaluate(run / "best.safetensors", eval_dir, split, report_dir=run / "report")
        speeds = [h["images_per_s"] for h in summary.history]
        row = {
            "architecture": arch,
            "n_parameters": card.get("n_parameters"),
            "train_minutes": round(minutes, 2),
            "epochs_run": summary.epochs_run,
            "best_epoch": summary.best_epoch,
            "val_macro_f1": summary.best_metric,
            "images_per_s": round(sum(speeds) / len(speeds), 1) if speeds else None,
            "test": metrics,
        }
        eval_json.write_text(json.dumps(row, indent=2))
        rows.append(row)
        if on_result is not None:
            on_result(rows)
    return rows


def comparison_markdown(
    rows: Sequence[Mapping[str, Any]], budget: str, data: str, eval_data: str, split: str
) -> str:
    """The comparison as Markdown: overall table, per-class F1, binary metrics (seed 002 layout)."""
    ranked = sorted(rows, key=lambda r: r["test"]["macro_f1"], reverse=True)
    f = "{:.3f}".format
    lines = [
        "# CT architecture comparison",
        "",
        f"Trained on `{data}`, evaluated on the `{split}` split of `{eval_data}` (a dataset never "
        "trained on). Every architecture had the same budget and settings:",
        "",
        budget,
        "",
        "## Performance",
        "",
        "| Rank | Model | Test F1 (macro) | Accuracy | ROC-AUC | Defect recall | Val F1 | Best epoch "
        "| Params | Train min | img/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(ranked, 1):
        t = r["test"]
        auc = f(t["roc_auc"]) if t.get("roc_auc") is not None else "n/a"
        params = f"{r['n_parameters'] / 1e6:.1f}M" if r.get("n_parameters") else "n/a"
        lines.append(
            f"| {i} | {r['architecture']} | {f(t['macro_f1'])} | {t['accuracy']:.1%} | {auc} | "
            f"{t['binary']['defect_recall']:.1%} | {f(r['val_macro_f1'] or 0)} | {r['best_epoch']} | "
            f"{params} | {r['train_minutes']:.1f} | {r['images_per_s'] or 0:.0f} |"
        )
    lines += [
        "",
        "## Per-class F1",
        "",
        "| Model | " + " | ".join(CLASS_NAMES) + " |",
        "|---|" + "---|" * len(CLASS_NAMES),
    ]
    for r in ranked:
        per = r["test"]["per_class"]
        lines.append(f"| {r['architecture']} | " + " | ".join(f(per[c]["f1"]) for c in CLASS_NAMES) + " |")
    lines += [
        "",
        "## Binary: normal vs defect",
        "",
        "| Model | Defect recall | Defect precision | Normal recall | Accuracy |",
        "|---|---|---|---|---|",
    ]
    for r in ranked:
        b = r["test"]["binary"]
        lines.append(
            f"| {r['architecture']} | {b['defect_recall']:.1%} | {b['defect_precision']:.1%} | "
            f"{b['normal_recall']:.1%} | {b['accuracy']:.1%} |"
        )
    lines += [
        "",
        "## Calibration (temperature fitted on the training data's val split)",
        "",
        "| Model | Temperature | ECE before | ECE after |",
        "|---|---|---|---|",
    ]
    for r in ranked:
        t = r["test"]
        lines.append(
            f"| {r['architecture']} | {t['temperature']:.2f} | {t['ece_before']:.4f} | {t['ece_after']:.4f} |"
        )
    return "\n".join(lines) + "\n"


def _budget_text(config_path: str | Path) -> str:
    cfg = load_ct_config(config_path)
    d, t, loss = cfg.data, cfg.train, cfg.loss
    return (
        f"`{config_path}`: input {d.input_size} px, batch {d.batch_size}, {t.epochs} epochs "
        f"(early stopping patience {t.early_stopping.patience}), AdamW lr {t.lr:g}, weight decay "
        f"{t.weight_decay:g}, {t.scheduler.name} (t_0 {t.scheduler.t_0}, warm-up {t.scheduler.warmup_epochs:g} "
        f"epoch), {loss.name} loss (gamma {loss.gamma}, label smoothing {loss.label_smoothing}, class weights "
        f"{loss.class_weights}), sampler {d.sampler} (power {d.sampler_power:g}), augmentation `{d.augment}`, "
        f"seed {t.seed}, from scratch on CPU."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the comparison runner; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m training.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="shared CT config (the budget)")
    parser.add_argument("--data", required=True, help="training dataset")
    parser.add_argument("--eval-data", required=True, help="held-out dataset")
    parser.add_argument("--split", default="test", help="split of --eval-data to evaluate")
    parser.add_argument("--out", required=True, help="folder for the per-architecture runs")
    parser.add_argument("--architectures", default="resnet18,late_fusion,cbam,drn_aspp")
    parser.add_argument("--doc", default="docs/ct_architecture_comparison.md", help="Markdown output")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    archs = [a.strip() for a in args.architectures.split(",") if a.strip()]
    budget = _budget_text(args.config)
    doc = Path(args.doc)
    doc.parent.mkdir(parents=True, exist_ok=True)

    def write(rows: list[dict[str, Any]]) -> None:
        doc.write_text(
            comparison_markdown(rows, budget, args.data, args.eval_data, args.split), encoding="utf-8"
        )
        log.info("wrote %s (%d of %d architectures)", doc, len(rows), len(archs))

    try:
        rows = compare(args.config, args.data, args.eval_data, args.out, archs, args.split, on_result=write)
    except InspectorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(comparison_markdown(rows, budget, args.data, args.eval_data, args.split))
    return 0


if __name__ == "__main__":
    sys.exit(main())
