"""Choose the "needs review" policy of a CT checkpoint on a selection set, and store it in its card.

``python -m inspector fit-review --checkpoint C --ood OOD_DIR --data D1 [--data D2] [--split test]
[--limit N] [--write]`` (:mod:`inspector.commands.fit_review`) runs :func:`select_policy`.

Every image is inspected once through the real inspector; what each rule needs is kept (OOD score,
defect probability, image and metadata reasons), and every candidate policy (feature-density
margin x low-margin band) is scored without running the model again. The rule, fixed before
scoring: among candidates that catch >= ``--min-caught`` of the OOD set (if none does, among those
that catch the most), take the one that flags the fewest in-distribution slices; ties go to the
larger density margin and the wider band.
``--write`` stores the choice in the card's ``review`` block (``ood_threshold``, ``low_margin``)
with the sets it was chosen on.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.checkpoint import load_card, update_card
from core.errors import InputError
from core.imageio import load_image
from core.manifest import read_manifest

log = logging.getLogger(__name__)

MARGINS = (1.0, 1.25, 1.5, 2.0, 3.0, 5.0)
LOW_MARGINS = (0.05, 0.1, 0.2, 0.3)  # the low-margin rule always stays on


@dataclass
class Seen:
    """What one inspected image gives the review rules."""

    ood: bool  # part of the OOD set
    rejected: bool  # decoding refused it (caught whatever the policy)
    fixed_reasons: bool  # image-quality or metadata reasons (independent of the policy)
    ood_score: float | None
    defect_probability: float
    threshold: float


def _inspect_all(inspector, items: list[tuple[Path, str, str, bool]]) -> list[Seen]:
    seen = []
    for path, battery_type, axis, is_ood in items:
        try:
            evidence = inspector.analyse(ct=load_image(path, "ct"), battery_type=battery_type, axis=axis)
        except InputError:
            seen.append(Seen(is_ood, True, True, None, 0.0, 0.5))
            continue
        ct = evidence.ct
        policy_free = [r for r in evidence.review_reasons if r not in ("ct_out_of_distribution", "ct_low_margin")]
        seen.append(Seen(is_ood, False, bool(policy_free), ct.ood_score, ct.defect_probability, ct.threshold))
    return seen


def flagged(item: Seen, base_quantile: float, margin: float, low_margin: float) -> bool:
    """Whether ``item`` is flagged under a candidate policy."""
    if item.rejected or item.fixed_reasons:
        return True
    if item.ood_score is not None and item.ood_score > base_quantile * margin:
        return True
    return abs(item.defect_probability - item.threshold) < low_margin


def choose(seen: list[Seen], base_quantile: float, min_caught: float) -> tuple[dict, list[dict]]:
    """The chosen policy and the table of every candidate."""
    table = []
    for margin, low in itertools.product(MARGINS, LOW_MARGINS):
        ood = [flagged(s, base_quantile, margin, low) for s in seen if s.ood]
        ind = [flagged(s, base_quantile, margin, low) for s in seen if not s.ood]
        table.append(
            {
                "margin": margin,
                "low_margin": low,
                "ood_caught": sum(ood) / max(len(ood), 1),
                "in_distribution_flagged": sum(ind) / max(len(ind), 1),
            }
        )
    ok = [row for row in table if row["ood_caught"] >= min_caught]
    if not ok:  # no candidate catches enough: catch as much as possible, then flag the fewest
        top = max(row["ood_caught"] for row in table)
        ok = [row for row in table if row["ood_caught"] == top]
    best = min(ok, key=lambda r: (r["in_distribution_flagged"], -r["margin"], -r["low_margin"]))
    return best, table


def select_policy(
    checkpoint: str | Path,
    ood_dir: str | Path,
    data: list[str | Path],
    split: str = "test",
    limit: int = 200,
    min_caught: float = 0.95,
    write: bool = False,
) -> dict:
    """Inspect the selection images once, score every candidate policy, optionally store the choice.

    Returns:
        ``{"chosen": {...}, "candidates": [...]}``.

    Raises:
        InputError: The checkpoint has no fitted review density, or a folder is unreadable.
    """
    from inspector.pipeline import Inspector
    from inspector.settings import InspectorSettings

    card = load_card(checkpoint)
    review = card.get("review") or {}
    if "val_quantile" not in review:
        raise InputError(f"{checkpoint} has no fitted review density (train it with review.fit: true)")
    ood_dir = Path(ood_dir)
    if not (ood_dir / "ood.csv").is_file():
        raise InputError(f"{ood_dir} has no ood.csv; make one with `python -m inspector synth-ood`")
    inspector = Inspector.load(InspectorSettings(ct_checkpoint=checkpoint), sides=("ct",))
    items = [
        (ood_dir / r.image_path, r.battery_type, r.axis, True) for r in pd.read_csv(ood_dir / "ood.csv").itertuples()
    ]
    for folder in data:
        rows = read_manifest(folder)
        rows = rows[(rows["modality"] == "ct") & (rows["split"] == split)]
        step = max(len(rows) // max(limit, 1), 1)
        items += [(Path(folder) / r.image_path, r.battery_type, r.axis, False) for r in rows.iloc[::step].itertuples()]
    best, table = choose(_inspect_all(inspector, items), float(review["val_quantile"]), min_caught)
    if write:
        review.update(
            ood_threshold=float(review["val_quantile"]) * best["margin"],
            margin=best["margin"],
            low_margin=best["low_margin"],
            policy_chosen_on={"ood": str(ood_dir), "data": [str(d) for d in data], "split": split, **best},
        )
        update_card(checkpoint, review=review)
        log.info("review policy written to %s: margin %s, low margin %s", checkpoint, best["margin"], best["low_margin"])
    return {"chosen": best, "candidates": table}
