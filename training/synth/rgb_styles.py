"""RGB styles: named presets that decide how ``synth`` draws RGB photos (``--rgb-style``).

``flat`` is the original flat-shaded renderer (:mod:`training.synth.rgb`, byte-for-byte
unchanged and the default). The ``photoreal`` family (:mod:`training.synth.rgb_photoreal`)
renders shaded, textured batteries at inspection stations; its presets differ only in the
stations they draw from, so one family can be held out of fitting:

- ``photoreal``: the fitting stations (conveyor, tray, ESD mat, steel table);
- ``photoreal_holdout``: other rooms and cameras (light box, wooden desk, fabric, cluttered
  bench) for a held-out test;
- ``photoreal_all``: every station.

``--rgb-stations a,b`` narrows a photoreal style to some of its stations.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.errors import InputError
from training.synth.rgb import RGBBattery
from training.synth.rgb_photoreal import FITTING_STATIONS, HOLDOUT_STATIONS, STATIONS, PhotorealBattery


@dataclass(frozen=True)
class RGBStyle:
    """A named way of rendering RGB photos.

    Attributes:
        name: Preset name (``--rgb-style``).
        description: One line for help texts.
        factory: ``factory(battery_type, size, rng, stations=...)`` -> an object with
            ``render(label, rng) -> (image, mask)``.
        stations: Station names the style draws from (empty for styles without stations).
    """

    name: str
    description: str
    factory: Callable[..., object]
    stations: tuple[str, ...] = ()


def _flat(
    battery_type: str, size: int, rng: np.random.Generator, stations: tuple[str, ...] = ()
) -> RGBBattery:
    return RGBBattery(battery_type, size, rng)


RGB_STYLES: dict[str, RGBStyle] = {
    s.name: s
    for s in (
        RGBStyle("flat", "flat-shaded cells and modules (the original generator, default)", _flat),
        RGBStyle(
            "photoreal",
            "shaded, textured batteries at the fitting stations: " + ", ".join(FITTING_STATIONS),
            functools.partial(PhotorealBattery, style="photoreal"),
            FITTING_STATIONS,
        ),
        RGBStyle(
            "photoreal_holdout",
            "shaded, textured batteries at held-out stations: " + ", ".join(HOLDOUT_STATIONS),
            functools.partial(PhotorealBattery, style="photoreal_holdout"),
            HOLDOUT_STATIONS,
        ),
        RGBStyle(
            "photoreal_all",
            "shaded, textured batteries at every station",
            functools.partial(PhotorealBattery, style="photoreal_all"),
            FITTING_STATIONS + HOLDOUT_STATIONS,
        ),
    )
}


def resolve_stations(style: str, stations: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The stations a style uses, narrowed to ``stations`` when given.

    Raises:
        InputError: Unknown style or station, or stations given for a style without any.
    """
    if style not in RGB_STYLES:
        raise InputError(f"--rgb-style must be one of {', '.join(RGB_STYLES)}, got {style!r}")
    preset = RGB_STYLES[style]
    if not stations:
        return preset.stations
    if not preset.stations:
        raise InputError(f"--rgb-stations needs a photoreal --rgb-style; {style!r} has no stations")
    for name in stations:
        if name not in STATIONS:
            raise InputError(f"--rgb-stations: unknown station {name!r}; known: {', '.join(STATIONS)}")
    return tuple(stations)


def create_rgb_battery(
    style: str,
    stations: list[str] | tuple[str, ...] | None,
    battery_type: str,
    size: int,
    rng: np.random.Generator,
) -> object:
    """Build the RGB renderer of one battery for ``style`` (see :data:`RGB_STYLES`).

    Args:
        style: Style name.
        stations: Optional subset of stations (photoreal styles).
        battery_type: ``cell`` or ``module``.
        size: Image side.
        rng: Generator of the battery's appearance.

    Returns:
        An object with ``render(label, rng) -> (image, mask)`` and, for photoreal styles,
        ``manifest_extras`` (columns added to its manifest rows).
    """
    return RGB_STYLES[style].factory(battery_type, size, rng, stations=resolve_stations(style, stations))
