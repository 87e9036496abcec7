"""Generator settings: counts, class proportions, split ratios, shortcut strength.

Every number that shapes the synthetic dataset lives in :class:`SynthConfig`, so a single YAML
file (``python -m inspector synth --config FILE``) or a few CLI flags can change it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.errors import InputError
from core.manifest import CT_LABELS, RGB_LABELS, SPLITS

MIN_SIZE = 64
MODALITIES = ("ct", "rgb", "both")
ENGINES = ("draw", "physics")

# Close to seed 003 section 1.2 (test distribution) with resin overflow rare but learnable.
DEFAULT_CT_PROPORTIONS: dict[str, float] = {
    "cell_normal": 0.23,
    "cell_porosity": 0.17,
    "module_normal": 0.29,
    "module_porosity": 0.27,
    "module_resin_overflow": 0.04,
}
DEFAULT_RGB_PROPORTIONS: dict[str, float] = {
    "normal": 0.64,
    "pollution": 0.12,
    "scratch": 0.12,
    "damage": 0.12,
}
DEFAULT_SPLIT_RATIOS: dict[str, float] = {"train": 0.70, "val": 0.15, "test": 0.15}


@dataclass
class SynthConfig:
    """Everything that decides what ``python -m inspector synth`` writes.

    Attributes:
        seed: Master seed; the dataset is a pure function of the config.
        batteries: Number of batteries in train/val/test (``test_shift`` adds its own).
        size: Image side in pixels (square images).
        modality: ``ct``, ``rgb`` or ``both``.
        shortcut: Probability P that a defect image carries the scanner stamp (normal images
            carry it with 1-P) in train/val/test; ``0`` disables the stamp and ``test_shift``.
        ct_per_battery: CT slices per battery.
        rgb_per_battery: RGB photos per battery.
        axis_y_fraction: Share of a battery's CT slices on the y axis (axial cross-section).
        ct_proportions: Target share of each CT label (normalised; decides cell/module mix).
        rgb_proportions: Target share of each RGB label.
        split_ratios: Share of batteries per split.
        test_shift_fraction: Extra batteries for ``test_shift``, as a fraction of ``batteries``.
        workers: Worker processes (0 = in-process).
        engine: CT engine: ``draw`` (drawn slices) or ``physics`` (simulated scanner:
            material phantoms, polychromatic projection, noise, filtered back-projection).
        rgb_style: RGB renderer preset (:data:`training.synth.rgb_styles.RGB_STYLES`):
            ``flat`` (default), ``photoreal``, ``photoreal_holdout`` or ``photoreal_all``.
        rgb_stations: Optional subset of the photoreal style's stations (empty = all of them).
    """

    seed: int = 0
    batteries: int = 125
    size: int = 256
    modality: str = "both"
    shortcut: float = 0.0
    ct_per_battery: int = 24
    rgb_per_battery: int = 8
    axis_y_fraction: float = 0.6
    ct_proportions: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CT_PROPORTIONS))
    rgb_proportions: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RGB_PROPORTIONS))
    split_ratios: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SPLIT_RATIOS))
    test_shift_fraction: float = 0.15
    workers: int = 2
    engine: str = "draw"
    rgb_style: str = "flat"
    rgb_stations: list[str] = field(default_factory=list)

    @property
    def with_ct(self) -> bool:
        """Whether CT images are generated."""
        return self.modality in ("ct", "both")

    @property
    def with_rgb(self) -> bool:
        """Whether RGB photos are generated."""
        return self.modality in ("rgb", "both")

    def to_dict(self) -> dict:
        """Plain-dict view (written next to the manifest as ``synth_config.json``)."""
        return dataclasses.asdict(self)

    def validate(self) -> SynthConfig:
        """Check every field; raise :class:`InputError` naming the first bad one."""
        if self.seed < 0:
            raise InputError(f"--seed must not be negative, got {self.seed}")
        if self.batteries < 1:
            raise InputError(f"--batteries must be at least 1, got {self.batteries}")
        if self.size < MIN_SIZE:
            raise InputError(f"--size must be at least {MIN_SIZE} px, got {self.size}")
        if self.size > 4096:
            raise InputError(f"--size must be at most 4096 px, got {self.size}")
        if self.modality not in MODALITIES:
            raise InputError(f"--modality must be one of {', '.join(MODALITIES)}, got {self.modality!r}")
        if not 0.0 <= self.shortcut <= 1.0:
            raise InputError(f"--shortcut must be a probability in [0, 1], got {self.shortcut}")
        if self.ct_per_battery < 0 or self.rgb_per_battery < 0:
            raise InputError("images per battery must not be negative")
        if self.with_ct and self.ct_per_battery == 0:
            raise InputError("--ct-per-battery must be at least 1 when CT images are generated")
        if self.with_rgb and self.rgb_per_battery == 0:
            raise InputError("--rgb-per-battery must be at least 1 when RGB photos are generated")
        if not 0.0 <= self.axis_y_fraction <= 1.0:
            raise InputError(f"axis_y_fraction must be in [0, 1], got {self.axis_y_fraction}")
        if not 0.0 <= self.test_shift_fraction <= 1.0:
            raise InputError(f"test_shift_fraction must be in [0, 1], got {self.test_shift_fraction}")
        if self.engine not in ENGINES:
            raise InputError(f"--engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.workers < 0:
            raise InputError(f"--workers must not be negative, got {self.workers}")
        if not isinstance(self.rgb_stations, (list, tuple)) or not all(
            isinstance(s, str) for s in self.rgb_stations
        ):
            raise InputError("rgb_stations must be a list of station names")
        from training.synth.rgb_styles import resolve_stations

        resolve_stations(self.rgb_style, self.rgb_stations)
        _check_proportions("ct_proportions", self.ct_proportions, CT_LABELS)
        _check_proportions("rgb_proportions", self.rgb_proportions, RGB_LABELS)
        _check_proportions("split_ratios", self.split_ratios, SPLITS[:3])
        return self


def _check_proportions(name: str, values: dict[str, float], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise InputError(f"{name} has unknown key {unknown[0]!r}; allowed: {', '.join(allowed)}")
    if any(float(v) < 0 for v in values.values()):
        raise InputError(f"{name} must not contain negative values")
    if sum(float(v) for v in values.values()) <= 0:
        raise InputError(f"{name} must contain at least one positive value")


def parse_proportions(text: str, flag: str) -> dict[str, float]:
    """Parse ``"a=0.5,b=0.2"`` into a dict; raise :class:`InputError` on bad syntax."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            raise InputError(f"{flag} expects NAME=SHARE pairs separated by commas, got {part!r}") from None
    return out


def load_config(path: str | Path | None = None, **overrides) -> SynthConfig:
    """Build a validated config from an optional YAML file plus keyword overrides.

    Args:
        path: YAML file whose keys are :class:`SynthConfig` fields.
        **overrides: Field values that win over the file (``None`` values are ignored).

    Returns:
        The validated config.

    Raises:
        InputError: The file is missing or unreadable, names an unknown field, or a value is
            out of range.
    """
    values: dict = {}
    if path is not None:
        p = Path(path)
        try:
            values = yaml.safe_load(p.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"cannot read synth config {p}: {exc}") from exc
        if not isinstance(values, dict):
            raise InputError(f"synth config {p} must be a mapping of field: value")
    values.update({k: v for k, v in overrides.items() if v is not None})
    names = {f.name for f in dataclasses.fields(SynthConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InputError(f"unknown synth setting {unknown[0]!r}")
    try:
        return SynthConfig(**values).validate()
    except TypeError as exc:
        raise InputError(f"invalid synth setting: {exc}") from exc
