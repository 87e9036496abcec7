"""The camera: perspective, exposure, white balance, vignetting, blur, tone curve, sharpening,
sensor noise and JPEG. All random draws happen in :func:`draw_camera`, so developing a clean
and a defect version of one photo gives the same pixels wherever the scene is the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.geometry import grid
from training.synth.rgb_photoreal.stations import Station


@dataclass(frozen=True)
class Camera:
    """Everything the camera does to one photo (drawn once per photo).

    Attributes:
        homography: 3x3 perspective transform of the scene plane.
        gain: Per-channel exposure times white-balance residual.
        vignette: ``[H, W]`` brightness falloff.
        blur: Gaussian sigma (0 = none).
        motion: Motion blur kernel or ``None``.
        sharpen: Unsharp-mask amount.
        noise: ``[H, W, 3]`` sensor noise (already scaled).
        jpeg_quality: JPEG quality (100 = lossless, no JPEG).
    """

    homography: np.ndarray
    gain: np.ndarray
    vignette: np.ndarray
    blur: float
    motion: np.ndarray | None
    sharpen: float
    noise: np.ndarray
    jpeg_quality: int


def _u(rng: np.random.Generator, r: tuple[float, float]) -> float:
    return float(rng.uniform(r[0], r[1]))


def draw_camera(
    rng: np.random.Generator, station: Station, size: int, grain: np.ndarray | None = None
) -> Camera:
    """Draw the camera settings of one photo at ``station``.

    Args:
        rng: Generator of this photo.
        station: Where the photo is taken.
        size: Image side.
        grain: Optional bank of unit normal noise ``[H, W, 3]``, randomly shifted per photo
            (drawing fresh normal noise is a large share of the render time).
    """
    s = size / 256
    tilt = _u(rng, station.tilt) * size
    src = np.float32([[0, 0], [size, 0], [size, size], [0, size]])
    dst = src + rng.uniform(-tilt, tilt, (4, 2)).astype(np.float32)
    homography = cv2.getPerspectiveTransform(src, dst)
    wb = 1 + rng.normal(0, station.white_balance_error, 3)
    gain = (2.0 ** _u(rng, station.exposure) * wb / wb[1]).astype(np.float32)
    yy, xx = grid(size)
    cx, cy = size / 2 + rng.normal(0, 0.05 * size, 2)
    r2 = ((xx - np.float32(cx)) ** 2 + (yy - np.float32(cy)) ** 2) / np.float32(size * size / 2)
    vignette = (1 - _u(rng, station.vignetting) * r2).astype(np.float32)
    length = _u(rng, station.motion_blur) * s
    motion = None
    if length >= 1.0:
        k = int(np.ceil(length)) | 1
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1
        rot = cv2.getRotationMatrix2D((k // 2, k // 2), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        motion = kernel / kernel.sum()
    sigma = _u(rng, station.noise) * min(1.0, float(np.sqrt(s)))  # smaller photos: averaged sensor pixels
    if grain is None:
        noise = rng.standard_normal((size, size, 3), dtype=np.float32) * np.float32(sigma)
    else:
        dy, dx = (int(v) for v in rng.integers(0, size, 2))
        noise = np.roll(grain, (dy, dx), axis=(0, 1)) * np.float32(sigma)
    chroma = _u(rng, station.chroma_noise)
    if chroma > 0:
        cells = max(4, round(size / (6 * s)))
        low = rng.normal(0, sigma * 1.5 * chroma, (cells, cells, 3)).astype(np.float32)
        noise += cv2.resize(low, (size, size), interpolation=cv2.INTER_LINEAR)
    q = int(rng.integers(station.jpeg_quality[0], station.jpeg_quality[1] + 1))
    return Camera(
        homography, gain, vignette, _u(rng, station.blur) * s, motion, _u(rng, station.sharpen), noise, q
    )


def warp(cam: Camera, image: np.ndarray, nearest: bool = False) -> np.ndarray:
    """Apply the camera's perspective to a scene-plane image."""
    size = image.shape[0]
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.warpPerspective(
        image, cam.homography, (size, size), flags=flags, borderMode=cv2.BORDER_REFLECT_101
    )


def expose(cam: Camera, radiance: np.ndarray) -> np.ndarray:
    """Radiance (scene plane, linear) to 8-bit sRGB before compression: every step but JPEG."""
    img = warp(cam, radiance) * cam.gain * cam.vignette[..., None]
    if cam.motion is not None:
        img = cv2.filter2D(img, -1, cam.motion, borderType=cv2.BORDER_REFLECT_101)
    if cam.blur > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), cam.blur)
    img = np.clip(img, 0, None)
    img = img / (1 + img * np.float32(0.12))  # soft highlight shoulder
    img = np.sqrt(img * np.float32(1.12))  # gamma 2, the inverse of the albedo decoding
    if cam.sharpen > 0:
        img = img + np.float32(cam.sharpen) * (img - cv2.GaussianBlur(img, (0, 0), 1.2))
    img = img + cam.noise
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def compress(cam: Camera, image: np.ndarray) -> np.ndarray:
    """JPEG round trip of an RGB uint8 image (no change at quality 100)."""
    if cam.jpeg_quality >= 100:
        return image
    ok, buf = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, cam.jpeg_quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
