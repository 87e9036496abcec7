"""Tests for training.review_policy: the policy rule on precomputed review inputs."""

from __future__ import annotations

from training.review_policy import Seen, choose, flagged


def _item(ood: bool, score: float, p: float = 0.05, fixed: bool = False) -> Seen:
    return Seen(ood=ood, rejected=False, fixed_reasons=fixed, ood_score=score, defect_probability=p, threshold=0.5)


def test_flagged_combines_fixed_reasons_density_and_band() -> None:
    assert flagged(_item(False, 0.1, fixed=True), 1.0, 1.0, 0.1)
    assert flagged(_item(False, 2.1), 1.0, 2.0, 0.1) and not flagged(_item(False, 1.9), 1.0, 2.0, 0.1)
    assert flagged(_item(False, 0.1, p=0.45), 1.0, 2.0, 0.1) and not flagged(_item(False, 0.1, p=0.3), 1.0, 2.0, 0.1)
    assert flagged(Seen(True, True, True, None, 0.0, 0.5), 1.0, 5.0, 0.1)


def test_choose_catches_enough_ood_then_flags_least_in_distribution() -> None:
    seen = [_item(True, s) for s in (1.3, 1.6, 2.5, 10.0)] + [_item(False, s) for s in (0.2, 0.5, 1.1, 1.2)]
    best, table = choose(seen, base_quantile=1.0, min_caught=1.0)
    # margin 1.25 catches every OOD score (>= 1.3) and flags none of the in-distribution ones
    assert best["margin"] == 1.25 and best["ood_caught"] == 1.0 and best["in_distribution_flagged"] == 0.0
    assert best["low_margin"] == max(r["low_margin"] for r in table)  # ties go to the wider band
    looser, _ = choose(seen, base_quantile=1.0, min_caught=0.5)
    assert looser["margin"] >= best["margin"]


def test_when_nothing_catches_enough_the_most_catching_policy_wins() -> None:
    seen = [_item(True, s) for s in (1.1, 1.3)] + [_item(False, 0.2), _item(False, 1.05)]
    best, table = choose(seen, base_quantile=1.0, min_caught=1.01)  # unreachable
    assert best["ood_caught"] == max(r["ood_caught"] for r in table) == 1.0 and best["margin"] == 1.0
