"""The verdict truth table and the seed 002 §3 confidence formulas."""

from dataclasses import dataclass

import pytest

from core.errors import ConfigError
from inspector.verdict import VERDICTS, combine


@dataclass
class Side:
    is_defect: bool
    confidence: float

    @property
    def normal_probability(self) -> float:
        return 1 - self.confidence if self.is_defect else self.confidence


CT_DEFECT, CT_NORMAL = Side(True, 0.9), Side(False, 0.8)
RGB_DEFECT, RGB_NORMAL = Side(True, 0.7), Side(False, 0.6)


@pytest.mark.parametrize(
    ("ct", "rgb", "verdict", "confidence"),
    [
        (CT_NORMAL, RGB_NORMAL, "normal", (0.8 + 0.6) / 2),
        (CT_DEFECT, RGB_NORMAL, "internal_defect", 0.9),
        (CT_NORMAL, RGB_DEFECT, "external_defect", 0.7),
        (CT_DEFECT, RGB_DEFECT, "composite_defect", (0.9 + 0.7) / 2),
    ],
)
def test_truth_table_and_confidence_or_policy(ct, rgb, verdict, confidence):
    result = combine(ct, rgb, policy="or")
    assert result.verdict == verdict
    assert result.confidence == pytest.approx(confidence)
    assert result.is_defect == (verdict != "normal")


@pytest.mark.parametrize(
    ("ct", "rgb", "verdict", "confidence"),
    [
        (CT_NORMAL, RGB_NORMAL, "normal", 0.7),
        # disagreement: normal, and the normal formula's low value shows it
        (CT_DEFECT, RGB_NORMAL, "normal", (0.1 + 0.6) / 2),
        (CT_NORMAL, RGB_DEFECT, "normal", (0.8 + 0.3) / 2),
        (CT_DEFECT, RGB_DEFECT, "composite_defect", 0.8),
    ],
)
def test_and_policy_needs_both_sides(ct, rgb, verdict, confidence):
    result = combine(ct, rgb, policy="and")
    assert (result.verdict, result.confidence) == (verdict, pytest.approx(confidence))


@pytest.mark.parametrize("policy", ["or", "and"])
@pytest.mark.parametrize(
    ("ct", "rgb", "verdict", "confidence"),
    [
        (CT_DEFECT, None, "internal_defect", 0.9),
        (CT_NORMAL, None, "normal", 0.8),
        (None, RGB_DEFECT, "external_defect", 0.7),
        (None, RGB_NORMAL, "normal", 0.6),
    ],
)
def test_one_side_uses_the_side_present(policy, ct, rgb, verdict, confidence):
    result = combine(ct, rgb, policy=policy)
    assert (result.verdict, result.confidence) == (verdict, pytest.approx(confidence))


def test_verdict_names_are_the_contract_ones():
    assert VERDICTS == ("normal", "internal_defect", "external_defect", "composite_defect")


def test_bad_policy_and_no_input_are_user_errors():
    with pytest.raises(ConfigError, match="policy"):
        combine(CT_NORMAL, RGB_NORMAL, policy="xor")
    with pytest.raises(ConfigError, match="CT image, an RGB image"):
        combine(None, None)
