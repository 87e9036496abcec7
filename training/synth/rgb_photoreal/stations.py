"""Inspection stations: background, lighting and camera of a photo, as named config presets.

A :class:`Station` holds ranges; every photo draws its own values from them, so one station
gives a family of photos (same bench, light and camera, varying exposure, pose and noise).
Stations are grouped into RGB styles (:mod:`training.synth.rgb_styles`): the ``photoreal``
style uses the *fitting* stations, ``photoreal_holdout`` the others, so a model fitted on one
family can be tested on backgrounds, light and cameras it has never seen.
"""

from __future__ import annotations

from dataclasses import dataclass

Range = tuple[float, float]


@dataclass(frozen=True)
class Station:
    """One inspection station (all lengths in pixels at 256 px, scaled with the image).

    Attributes:
        name: Preset name.
        description: One line for listings.
        background: Key of :data:`training.synth.rgb_photoreal.backgrounds.BACKGROUNDS`.
        palette: Background base colours (sRGB in [0, 1]); one is drawn per battery.
        light_elevation: Key light elevation in degrees above the table.
        light_azimuth: Key light azimuth in degrees (0 = from the right, 90 = from below).
        light_size: Softness of the key light, 0 (point) to 1 (large soft box).
        colour_temperature: Light colour temperature in kelvin.
        white_balance: Share of the light's colour cast the camera's auto white balance removes.
        white_balance_error: Relative residual colour cast after the camera's white balance.
        ambient: Share of diffuse ambient light.
        exposure: Exposure offset in EV stops.
        vignetting: Relative brightness loss in the corners.
        tilt: Perspective strength (corner shift as a fraction of the image side).
        blur: Gaussian lens blur sigma in pixels.
        motion_blur: Motion blur length in pixels (conveyor).
        noise: Sensor noise standard deviation (display units, before JPEG).
        chroma_noise: Share of low-frequency colour noise (small phone sensors).
        sharpen: Unsharp-mask amount of the camera's processing.
        jpeg_quality: JPEG quality range of the camera (100 = no JPEG).
        scale: Battery size multiplier (camera distance).
        upright_share: Share of cylindrical cells photographed upright (cap seen from above).
        group_share: Share of cylindrical cells photographed in a small group.
        clutter: Number of unrelated objects on the bench.
    """

    name: str
    description: str
    background: str
    palette: tuple[tuple[float, float, float], ...]
    light_elevation: Range = (45.0, 70.0)
    light_azimuth: Range = (0.0, 360.0)
    light_size: Range = (0.3, 0.6)
    colour_temperature: Range = (4500.0, 5500.0)
    white_balance: float = 0.8
    white_balance_error: float = 0.03
    ambient: Range = (0.25, 0.35)
    exposure: Range = (-0.2, 0.2)
    vignetting: Range = (0.05, 0.15)
    tilt: Range = (0.0, 0.03)
    blur: Range = (0.3, 0.7)
    motion_blur: Range = (0.0, 0.0)
    noise: Range = (0.004, 0.01)
    chroma_noise: Range = (0.0, 0.0)
    sharpen: Range = (0.0, 0.2)
    jpeg_quality: tuple[int, int] = (90, 98)
    scale: Range = (0.9, 1.1)
    upright_share: float = 0.25
    group_share: float = 0.25
    clutter: tuple[int, int] = (0, 0)


STATIONS: dict[str, Station] = {
    s.name: s
    for s in (
        # --- fitting family: industrial line cameras, near top-down, cool fluorescent/LED light.
        Station(
            "conveyor",
            "rubber conveyor belt, overhead LED bar, slight motion blur",
            "conveyor",
            ((0.20, 0.21, 0.22), (0.12, 0.13, 0.13), (0.18, 0.26, 0.20)),
            light_elevation=(55, 80),
            light_azimuth=(240, 300),
            light_size=(0.4, 0.7),
            colour_temperature=(5000, 6000),
            motion_blur=(0.0, 2.5),
            jpeg_quality=(92, 98),
        ),
        Station(
            "tray",
            "plastic transport tray with pockets, ring light",
            "tray",
            ((0.75, 0.76, 0.78), (0.15, 0.15, 0.16), (0.55, 0.62, 0.72)),
            light_elevation=(70, 88),
            light_size=(0.6, 0.9),
            colour_temperature=(5200, 6500),
            vignetting=(0.1, 0.25),
            upright_share=0.4,
        ),
        Station(
            "esd_mat",
            "blue or green ESD bench mat, fluorescent tubes",
            "esd_mat",
            ((0.18, 0.33, 0.52), (0.16, 0.42, 0.30), (0.35, 0.37, 0.40)),
            light_elevation=(50, 75),
            light_size=(0.5, 0.8),
            colour_temperature=(3800, 4800),
            white_balance_error=0.05,
            tilt=(0.0, 0.05),
        ),
        Station(
            "steel",
            "brushed stainless steel table, spot light",
            "steel",
            ((0.62, 0.63, 0.64), (0.50, 0.51, 0.53)),
            light_elevation=(35, 60),
            light_size=(0.15, 0.35),
            colour_temperature=(4500, 5600),
            exposure=(-0.4, 0.1),
        ),
        # --- held-out family: phone photos in other rooms: other surfaces, warm or very soft
        # light, oblique views, stronger processing and compression.
        Station(
            "lightbox",
            "white photo light box, very soft daylight, high key",
            "lightbox",
            ((0.93, 0.93, 0.92), (0.88, 0.89, 0.91)),
            light_elevation=(60, 85),
            light_size=(0.85, 1.0),
            colour_temperature=(5800, 7000),
            ambient=(0.45, 0.6),
            exposure=(-0.55, -0.15),
            vignetting=(0.0, 0.08),
            tilt=(0.02, 0.08),
            blur=(0.4, 1.0),
            sharpen=(0.3, 0.7),
            jpeg_quality=(80, 92),
            scale=(0.8, 1.05),
        ),
        Station(
            "wood",
            "wooden desk under a warm tungsten lamp, phone camera",
            "wood",
            ((0.55, 0.36, 0.20), (0.38, 0.24, 0.13), (0.70, 0.55, 0.38)),
            light_elevation=(25, 50),
            light_size=(0.05, 0.3),
            colour_temperature=(2700, 3400),
            white_balance=0.6,
            white_balance_error=0.08,
            ambient=(0.15, 0.25),
            vignetting=(0.2, 0.4),
            tilt=(0.05, 0.12),
            blur=(0.6, 1.4),
            noise=(0.01, 0.025),
            chroma_noise=(0.3, 0.6),
            sharpen=(0.4, 0.9),
            jpeg_quality=(65, 85),
            scale=(0.75, 1.0),
            upright_share=0.3,
        ),
        Station(
            "fabric",
            "cloth or felt under window light, dim and noisy",
            "fabric",
            ((0.60, 0.12, 0.12), (0.16, 0.22, 0.50), (0.78, 0.70, 0.56), (0.18, 0.45, 0.22)),
            light_elevation=(20, 45),
            light_size=(0.6, 0.9),
            colour_temperature=(6000, 7500),
            exposure=(-0.8, -0.2),
            vignetting=(0.15, 0.35),
            tilt=(0.04, 0.1),
            blur=(0.8, 1.6),
            noise=(0.015, 0.03),
            chroma_noise=(0.4, 0.8),
            sharpen=(0.2, 0.6),
            jpeg_quality=(60, 80),
        ),
        Station(
            "cluttered_bench",
            "workbench cutting mat with tools, screws and wires around, desk lamp",
            "cutting_mat",
            ((0.12, 0.32, 0.22), (0.15, 0.15, 0.16), (0.42, 0.40, 0.36)),
            light_elevation=(30, 60),
            light_size=(0.1, 0.4),
            colour_temperature=(3200, 4500),
            white_balance_error=0.06,
            vignetting=(0.15, 0.3),
            tilt=(0.04, 0.1),
            blur=(0.5, 1.2),
            noise=(0.008, 0.02),
            chroma_noise=(0.2, 0.5),
            sharpen=(0.3, 0.8),
            jpeg_quality=(70, 88),
            scale=(0.7, 0.9),
            clutter=(3, 7),
        ),
    )
}
FITTING_STATIONS = ("conveyor", "tray", "esd_mat", "steel")
HOLDOUT_STATIONS = ("lightbox", "wood", "fabric", "cluttered_bench")
