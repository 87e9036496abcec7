"""Parallel-beam forward projection (Fourier slice) and filtered back-projection.

Both operators are vectorised for a single CPU core:

* :func:`forward_project` computes the line integrals of several images at once through the
  Fourier slice theorem (one 2x zero-padded 2-D FFT per pair of images, bicubic sampling of the
  spectrum along every view's radial line, one batched 1-D inverse FFT). Its cost hardly depends
  on the number of views. Interpolating the spectrum multiplies the image by the kernel's
  Fourier transform; the image is divided by it first (the "deapodisation" of gridding). Against
  exact line integrals of a disc the mean error is ~0.5 % of the peak and the mass ~1 %
  (bilinear sampling: 1.2 % and 5 %).
* :func:`filtered_back_projection` filters every view with a windowed ramp and smears it back
  with one affine warp per *pair* of views ``theta`` and ``theta + 90 deg`` (the second view is
  smeared along the other image axis of the same warp).

Conventions: pixel ``(row, col)`` sits at ``x = col - n // 2``, ``y = row - n // 2``; the view at
angle ``theta`` integrates along lines ``x cos(theta) + y sin(theta) = t``; detector bin ``t`` is
stored at index ``t + d // 2`` of a detector of ``d = detector_bins(n)`` bins (just enough to
see the whole ``n x n`` grid at every angle).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import scipy.fft

OVERSAMPLE = 2
FILTERS = ("ram-lak", "shepp-logan", "hann", "cosine")


def detector_bins(n: int) -> int:
    """Detector bins (even) that cover an ``n x n`` grid at every angle."""
    return 2 * (int(np.ceil(n / np.sqrt(2))) + 3)


def view_angles(views: int) -> np.ndarray:
    """``views`` equally spaced angles in ``[0, pi)`` (``views`` must be even)."""
    if views < 2 or views % 2:
        raise ValueError(f"views must be an even number >= 2, got {views}")
    return np.arange(views) * (np.pi / views)


def _keys(s: np.ndarray, a: float = -0.75) -> np.ndarray:
    """OpenCV's bicubic interpolation kernel (Keys, ``a = -0.75``)."""
    s = np.abs(s)
    near = (a + 2) * s**3 - (a + 3) * s**2 + 1
    far = a * s**3 - 5 * a * s**2 + 8 * a * s - 4 * a
    return np.where(s < 1, near, np.where(s < 2, far, 0.0))


@lru_cache(maxsize=8)
def _deapodisation(n: int, q: int) -> np.ndarray:
    """``1 / (k(x) k(y))`` with ``k`` the Fourier transform of the spectrum's interpolation kernel."""
    s = np.linspace(-2, 2, 2001)
    x = (np.arange(n) - n // 2) / q
    k = np.trapezoid(_keys(s)[None, :] * np.cos(2 * np.pi * np.outer(x, s)), s, axis=1)
    return (1.0 / np.outer(k, k)).astype(np.float32)


@lru_cache(maxsize=32)
def _radial_maps(n: int, views: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    theta = view_angles(views)
    w = np.arange(q) - q // 2
    mx = (q // 2 + np.outer(np.cos(theta), w)).astype(np.float32)
    my = (q // 2 + np.outer(np.sin(theta), w)).astype(np.float32)
    return mx, my


def forward_project(images: np.ndarray, views: int, oversample: int = OVERSAMPLE) -> np.ndarray:
    """Line integrals (in pixel lengths) of ``images`` along ``views`` parallel-beam views.

    Args:
        images: ``[n, n, k]`` float array (``k`` images on the same grid).
        views: Number of views over 180 degrees (even).
        oversample: Zero-padding factor of the 2-D FFT (accuracy of the spectrum sampling).

    Returns:
        ``[views, detector_bins(n), k]`` float32 sinograms (detector bin spacing = one pixel).
    """
    n, _, k = images.shape
    q = oversample * n
    pad = q // 2 - n // 2
    weighted = images * _deapodisation(n, q)[..., None]
    planes = []
    for j in range(0, k, 2):
        g = np.zeros((q, q), np.complex64)
        g.real[pad : pad + n, pad : pad + n] = weighted[..., j]
        if j + 1 < k:
            g.imag[pad : pad + n, pad : pad + n] = weighted[..., j + 1]
        spec = scipy.fft.fftshift(scipy.fft.fft2(scipy.fft.ifftshift(g)))
        planes += [spec.real, spec.imag]
    stack = np.ascontiguousarray(np.stack(planes, -1).astype(np.float32))
    mx, my = _radial_maps(n, views, q)
    lines = np.empty((views, q, len(planes)), np.float32)
    for c in range(0, len(planes), 4):  # cv2.remap takes at most 4 channels
        part = np.ascontiguousarray(stack[..., c : c + 4])
        lines[..., c : c + 4] = cv2.remap(part, mx, my, cv2.INTER_CUBIC).reshape(views, q, -1)
    cplx = lines[..., 0::2] + 1j * lines[..., 1::2]
    proj = scipy.fft.fftshift(scipy.fft.ifft(scipy.fft.ifftshift(cplx, axes=1), axis=1), axes=1)
    half = detector_bins(n) // 2
    proj = proj[:, q // 2 - half : q // 2 + half]
    out = np.empty((views, 2 * half, k), np.float32)
    out[..., 0::2] = proj.real
    if k > 1:
        out[..., 1::2] = proj.imag[..., : k // 2]
    return out


@lru_cache(maxsize=32)
def ramp_filter(q: int, name: str, cutoff: float) -> np.ndarray:
    """Frequency response of the windowed ramp for detectors of ``q`` bins (padded to ``2^m``).

    The ramp is built from its band-limited spatial kernel (exact DC term), as scikit-image does.
    """
    if name not in FILTERS:
        raise ValueError(f"unknown reconstruction filter {name!r}; known: {', '.join(FILTERS)}")
    size = max(64, int(2 ** np.ceil(np.log2(2 * q))))
    m = np.concatenate([np.arange(1, size // 2 + 1, 2), np.arange(size // 2 - 1, 0, -2)])
    h = np.zeros(size)
    h[0] = 0.25
    h[1::2] = -1.0 / (np.pi * m) ** 2
    ramp = 2 * np.real(np.fft.fft(h))
    f = np.abs(np.fft.fftfreq(size)) / 0.5  # 1 at Nyquist
    rel = np.clip(f / cutoff, 0, None)
    if name == "shepp-logan":
        win = np.sinc(rel / 2)
    elif name == "hann":
        win = 0.5 * (1 + np.cos(np.pi * np.clip(rel, 0, 1)))
    elif name == "cosine":
        win = np.cos(np.pi / 2 * np.clip(rel, 0, 1))
    else:
        win = np.ones_like(rel)
    win[rel > 1] = 0.0
    return (ramp * win).astype(np.float32)


def filtered_back_projection(
    sino: np.ndarray, n: int, name: str = "ram-lak", cutoff: float = 1.0
) -> np.ndarray:
    """Reconstruct an ``n x n`` image from a ``[views, d]`` sinogram of :func:`forward_project`.

    Args:
        sino: Line integrals, ``[views, d]`` (views over 180 degrees, even count; detector
            centre at bin ``d // 2``).
        n: Output side.
        name: Window of the ramp filter (see :data:`FILTERS`).
        cutoff: Frequency cutoff as a fraction of Nyquist.

    Returns:
        ``[n, n]`` float32 image in attenuation per pixel length.
    """
    views, q = sino.shape
    filt = ramp_filter(q, name, float(cutoff))
    size = filt.shape[0]
    spec = scipy.fft.rfft(sino, n=size, axis=1) * filt[: size // 2 + 1]
    q_sino = scipy.fft.irfft(spec, n=size, axis=1)[:, :q].astype(np.float32)
    theta = view_angles(views)
    half = views // 2
    c = n // 2
    out = np.zeros((n, n), np.float32)
    reach = detector_bins(n) // 2
    q_sino = q_sino[:, max(q // 2 - reach, 0) : q // 2 + reach]
    tc = min(reach, q // 2)
    smear = np.empty((q_sino.shape[1], q_sino.shape[1]), np.float32)
    for i in range(half):
        ct, st = np.cos(theta[i]), np.sin(theta[i])
        np.add(q_sino[i][None, :], q_sino[i + half][:, None], out=smear)
        m = np.array([[ct, st, tc - c * ct - c * st], [-st, ct, tc + c * st - c * ct]], np.float64)
        out += cv2.warpAffine(smear, m, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    return out * np.float32(np.pi / (2 * views))
