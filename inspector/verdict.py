"""The logic-based verdict: CT (inside) x RGB (outside) -> one of four verdicts (seed 002 §3).

Not an ensemble: each model gives a binary decision and the two decisions are combined by a
truth table. With the default ``"or"`` policy a defect on either side counts::

    CT      RGB     verdict
    normal  normal  normal
    defect  normal  internal_defect
    normal  defect  external_defect
    defect  defect  composite_defect

Confidence (seed 002 §3), where a side's ``confidence`` is its certainty in its own decision:

- normal: ``(ct_normal_prob + rgb_confidence) / 2``
- internal_defect: ``ct_confidence``
- external_defect: ``rgb_confidence``
- composite_defect: ``(ct_confidence + rgb_confidence) / 2``

The ``"and"`` policy is the conservative alternative: a defect is reported only when both
models flag it (``composite_defect``); a single flag gives ``normal`` with the normal formula,
whose low value shows the disagreement. When only one image was inspected, the verdict uses
that side alone under either policy, and the averages reduce to that side's term.

These formulas give the *raw* confidence. With a ``calibration`` (see
:mod:`inspector.calibration`: a monotone map fitted on labelled selection pairs) the reported
``confidence`` is that map of the raw value, the probability that the verdict is right; the raw
value stays in :attr:`Verdict.raw_confidence`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.errors import ConfigError

__all__ = [
    "POLICIES",
    "VERDICTS",
    "Decision",
    "Verdict",
    "combine",
]

VERDICTS: tuple[str, ...] = ("normal", "internal_defect", "external_defect", "composite_defect")
POLICIES: tuple[str, ...] = ("or", "and")


class Decision(Protocol):
    """What the verdict needs from one side (CT or RGB prediction)."""

    @property
    def is_defect(self) -> bool:
        """The side's binary decision."""

    @property
    def confidence(self) -> float:
        """Probability of the side's own decision, in ``[0, 1]``."""

    @property
    def normal_probability(self) -> float:
        """Probability that the battery is normal on this side, in ``[0, 1]``."""


@dataclass(frozen=True)
class Verdict:
    """The combined verdict and its confidence.

    Attributes:
        verdict: One of :data:`VERDICTS`.
        confidence: The calibrated probability that the verdict is right when ``calibrated``,
            else the raw confidence.
        raw_confidence: The seed formula's value (``None``: same as ``confidence``).
        calibrated: Whether ``confidence`` went through a fitted calibration.
    """

    verdict: str
    confidence: float
    raw_confidence: float | None = None
    calibrated: bool = False

    @property
    def is_defect(self) -> bool:
        """Whether the verdict is any kind of defect."""
        return self.verdict != "normal"


def _normal_confidence(side: Decision) -> float:
    # the CT term is ct_normal_prob; for RGB the seed uses rgb_confidence (certainty in "normal")
    return side.normal_probability


def combine(
    ct: Decision | None,
    rgb: Decision | None,
    policy: str = "or",
    calibration: Callable[[float], float] | None = None,
) -> Verdict:
    """Combine the CT and RGB decisions into one verdict with its confidence.

    Args:
        ct: The CT decision, or ``None`` when no CT image was inspected.
        rgb: The RGB decision, or ``None`` when no RGB image was inspected.
        policy: ``"or"`` (a defect on either side counts) or ``"and"`` (both must agree).
        calibration: Raw confidence -> probability that the verdict is right (for example a
            :class:`inspector.calibration.VerdictCalibration`); ``None`` keeps the raw value.

    Returns:
        The :class:`Verdict`.

    Raises:
        ConfigError: If ``policy`` is unknown or both sides are missing.
    """
    if policy not in POLICIES:
        raise ConfigError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    if ct is None and rgb is None:
        raise ConfigError("an inspection needs a CT image, an RGB image, or both")
    raw = _raw_verdict(ct, rgb, policy)
    if calibration is None:
        return raw
    return Verdict(raw.verdict, _clip(calibration(raw.confidence)), raw.confidence, calibrated=True)


def _raw_verdict(ct: Decision | None, rgb: Decision | None, policy: str) -> Verdict:
    """The truth table and the seed's confidence formulas (see the module docstring)."""
    if ct is None or rgb is None:
        side = ct if ct is not None else rgb
        if not side.is_defect:
            return Verdict("normal", _clip(_normal_confidence(side)))
        return Verdict("internal_defect" if ct is not None else "external_defect", _clip(side.confidence))

    ct_flag, rgb_flag = bool(ct.is_defect), bool(rgb.is_defect)
    if policy == "and" and ct_flag != rgb_flag:
        ct_flag = rgb_flag = False
    if ct_flag and rgb_flag:
        return Verdict("composite_defect", _clip((ct.confidence + rgb.confidence) / 2))
    if ct_flag:
        return Verdict("internal_defect", _clip(ct.confidence))
    if rgb_flag:
        return Verdict("external_defect", _clip(rgb.confidence))
    return Verdict("normal", _clip((_normal_confidence(ct) + _normal_confidence(rgb)) / 2))


def _clip(value: float) -> float:
    return float(min(1.0, max(0.0, value)))
