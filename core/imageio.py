"""Decode and validate input images (uploads, CLI paths, dataset files).

One entry point, :func:`load_image`, turns a path, raw bytes or a file-like object into the array a
model expects:

- ``modality="ct"``: ``float32`` ``H x W`` in ``[0, 1]`` (colour inputs are converted to luminance;
  16-bit data keeps its full precision; DICOM gets its rescale slope/intercept and window applied).
- ``modality="rgb"``: ``uint8`` ``H x W x 3`` (grayscale, RGBA composited on white, palette, CMYK and
  16-bit inputs all normalised; EXIF orientation applied).

Supported containers: PNG, JPEG, TIFF (8/16-bit and float, via :mod:`tifffile`), DICOM (via
:mod:`pydicom`), BMP and WebP. Every problem the user can fix -- an empty, corrupt or truncated file,
an unsupported type, a file or image above the size limits (decompression bombs) -- raises
:class:`core.errors.InputError` with one sentence that names the file.
"""

from __future__ import annotations

import io
import logging
import numbers
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import cv2
import numpy as np
from PIL import Image, ImageOps

from core.errors import InputError

log = logging.getLogger(__name__)

ImageSource = str | os.PathLike | bytes | bytearray | memoryview | IO[bytes]
Modality = Literal["ct", "rgb"]

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
"""Largest accepted file (25 MiB)."""
DEFAULT_MAX_PIXELS = 40_000_000
"""Largest accepted image area (40 megapixels); guards against decompression bombs."""
DEFAULT_MIN_SIDE = 8
"""Smallest accepted width or height in pixels."""

SUPPORTED_FORMATS = ("PNG", "JPEG", "TIFF", "DICOM", "BMP", "WebP")

MAX_ASPECT = 8
"""Widest accepted aspect ratio (long side / short side)."""
MAX_WORKING_SIDE = 4096
"""Larger images are reduced to this side while decoding, so memory stays bounded."""

# Luminance weights (ITU-R BT.601), the same ones PIL uses for "RGB" -> "L".
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float64)


class DecodedImage(np.ndarray):
    """A decoded image that remembers what decoding saw, in :attr:`info`.

    It is an ordinary ``numpy`` array for every other purpose (``np.asarray`` gives the plain
    array). ``info`` keys: ``colour`` (mean chroma, max minus min channel in ``[0, 1]``, of the
    file before a CT image became grey), ``nonfinite_fraction`` (share of NaN/inf samples),
    ``channels`` (channels in the file).
    """

    info: dict

    def __new__(cls, array: np.ndarray, info: dict) -> DecodedImage:
        obj = np.asarray(array).view(cls)
        obj.info = dict(info)
        return obj

    def __array_finalize__(self, obj: np.ndarray | None) -> None:
        self.info = dict(getattr(obj, "info", {}) or {})


def image_info(image: np.ndarray) -> dict:
    """What decoding saw of ``image`` (empty for an array that was not decoded here)."""
    return dict(getattr(image, "info", {}) or {})


@dataclass(frozen=True)
class ImageLimits:
    """Size limits applied before any pixel is decoded.

    Attributes:
        max_bytes: Largest accepted encoded size in bytes.
        max_pixels: Largest accepted ``width * height``.
        min_side: Smallest accepted width or height.
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    min_side: int = DEFAULT_MIN_SIDE


def load_image(
    source: ImageSource,
    modality: Modality,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
    name: str | None = None,
) -> np.ndarray:
    """Decode an image for one modality, validating it on the way.

    Args:
        source: A filesystem path, the encoded bytes, or a binary file-like object (for example a
            Streamlit ``UploadedFile``).
        modality: ``"ct"`` for a float32 ``H x W`` array in ``[0, 1]``, ``"rgb"`` for a uint8
            ``H x W x 3`` array.
        max_bytes: Largest accepted encoded size in bytes.
        max_pixels: Largest accepted image area in pixels (checked from the header, before decoding).
        min_side: Smallest accepted width or height in pixels.
        name: How to call the input in error messages; defaults to the file name.

    Returns:
        The decoded image as described above, a :class:`DecodedImage` whose ``info`` says what
        decoding saw (colour of a CT file, NaN/inf samples).

    Raises:
        InputError: If the input is missing, empty, too large, corrupt, truncated or of an
            unsupported type, or ``modality`` is unknown.
    """
    if modality not in ("ct", "rgb"):
        raise InputError(f"unknown modality {modality!r}; expected 'ct' or 'rgb'.")
    limits = ImageLimits(max_bytes=max_bytes, max_pixels=max_pixels, min_side=min_side)
    label = safe_label(name or _source_name(source))
    data = _read_bytes(source, label, limits.max_bytes)
    kind = sniff_format(data)
    if kind is None and data[:6] in (b"GIF87a", b"GIF89a"):
        raise InputError(_gif_reason(data, label))
    if kind is None:
        raise InputError(
            f"{label} is not a supported image type (supported: {', '.join(SUPPORTED_FORMATS)})."
        )
    decoder = _dicom_decode if kind == "DICOM" else _tiff_decode if kind == "TIFF" else _pil_decode
    pixels = _reduce(decoder(data, label, limits), label)
    del data  # the encoded bytes are not needed any more: free them before converting
    info = {
        "nonfinite_fraction": float((~np.isfinite(pixels)).mean()) if pixels.dtype.kind == "f" else 0.0,
        "channels": int(pixels.shape[-1]) if pixels.ndim == 3 else 1,
    }
    if pixels.dtype == np.uint8 and (pixels.ndim == 2 or pixels.shape[-1] == 3):
        # the common 8-bit gray / RGB file: no float copy of the whole image at all
        info["colour"] = _uint8_colour(pixels)
        return DecodedImage(_uint8_for_modality(pixels, modality), info)
    gray = _to_unit_float(pixels, label)
    del pixels
    info["colour"] = float((gray.max(axis=-1) - gray.min(axis=-1)).mean()) if gray.ndim == 3 else 0.0
    return DecodedImage(_for_modality(gray, modality), info)


def _uint8_colour(pixels: np.ndarray) -> float:
    """Mean chroma (max minus min channel, in ``[0, 1]``) of an 8-bit image; 0 for gray."""
    if pixels.ndim == 2:
        return 0.0
    return float((pixels.max(axis=-1) - pixels.min(axis=-1)).mean(dtype=np.float64) / 255.0)


def _uint8_for_modality(pixels: np.ndarray, modality: Modality) -> np.ndarray:
    """An 8-bit gray or RGB array straight to a modality (the same values as the float path)."""
    if modality == "rgb":
        rgb = np.repeat(pixels[..., None], 3, axis=-1) if pixels.ndim == 2 else pixels
        return np.ascontiguousarray(rgb, dtype=np.uint8)
    if pixels.ndim == 2:
        gray = pixels.astype(np.float32)
    else:  # channel by channel: no float copy of all three channels at once
        gray = pixels[..., 0].astype(np.float32)
        gray *= np.float32(_LUMA[0])
        for channel in (1, 2):
            gray += pixels[..., channel] * np.float32(_LUMA[channel])
    gray *= np.float32(1.0 / 255.0)
    return np.ascontiguousarray(np.clip(gray, 0.0, 1.0, out=gray), dtype=np.float32)


def _reduce(pixels: np.ndarray, label: str) -> np.ndarray:
    """Area-reduce a decoded array whose longer side exceeds :data:`MAX_WORKING_SIDE`."""
    h, w = pixels.shape[:2]
    if max(h, w) <= MAX_WORKING_SIDE:
        return pixels
    scale = MAX_WORKING_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    log.info("%s is %dx%d; reduced to %dx%d", label, w, h, *size)
    work = pixels if pixels.dtype in (np.uint8, np.uint16, np.float32) else pixels.astype(np.float32)
    if work.ndim == 3 and work.shape[-1] > 4:
        return pixels  # unusual channel counts are refused later with a clear message
    return cv2.resize(work, size, interpolation=cv2.INTER_AREA)


def sniff_format(data: bytes) -> str | None:
    """Identify the container from its magic bytes.

    Args:
        data: The start of (or the whole) encoded file.

    Returns:
        One of :data:`SUPPORTED_FORMATS`, or ``None`` when the bytes are not a supported image.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if len(data) >= 132 and data[128:132] == b"DICM":
        return "DICOM"
    if data.startswith(b"BM"):
        return "BMP"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return None


# --------------------------------------------------------------------------------------------------
# reading


def safe_label(text: str, limit: int = 120) -> str:
    """A file name fit for a one-line message: control characters (newlines, tabs, escapes)
    shown as ``?``, and at most ``limit`` characters."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def _gif_reason(data: bytes, label: str) -> str:
    """Why a GIF is refused: animated (several frames, which one?) or not a scan format at all."""
    frames = 1
    try:
        with Image.open(io.BytesIO(data)) as image:
            frames = int(getattr(image, "n_frames", 1))
    except Exception:  # a broken GIF is refused all the same
        log.debug("cannot count the frames of %s", label, exc_info=True)
    supported = ", ".join(SUPPORTED_FORMATS)
    if frames > 1:
        return (
            f"{label} is an animated GIF ({frames} frames); an inspection needs one still image "
            f"(save the frame to inspect as {supported})."
        )
    return f"{label} is a GIF, which is not accepted for inspection (palette-reduced); use {supported}."


def _source_name(source: ImageSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name or str(source)
    return str(getattr(source, "name", None) or "the uploaded image")


def _read_bytes(source: ImageSource, label: str, max_bytes: int) -> bytes:
    """Read at most ``max_bytes + 1`` bytes so an oversized input is rejected without buffering it."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise InputError(f"{label} does not exist.")
        if not path.is_file():
            raise InputError(f"{label} is not a file.")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{label} is {_mb(size)}, above the {_mb(max_bytes)} limit.")
        data = path.read_bytes()
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            try:
                source.seek(0)
            except (OSError, ValueError):
                pass  # a non-seekable stream: read from where it is
        data = source.read(max_bytes + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise InputError(f"{label} must be opened in binary mode.")
        data = bytes(data)
    else:
        raise InputError(f"cannot read an image from a {type(source).__name__}.")
    if not data:
        raise InputError(f"{label} is empty (0 bytes).")
    if len(data) > max_bytes:
        raise InputError(f"{label} is larger than the {_mb(max_bytes)} limit.")
    return data


_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _check_size(width: int, height: int, label: str, limits: ImageLimits) -> None:
    if max(width, height) > MAX_ASPECT * max(min(width, height), 1):
        raise InputError(
            f"{label} is {width}x{height} pixels, an aspect ratio beyond {MAX_ASPECT}:1; "
            "a battery slice or photo is never that narrow (crop it to the battery)."
        )
    if width * height > limits.max_pixels:
        raise InputError(
            f"{label} is {width}x{height} pixels ({width * height / 1e6:.0f} MP), above the "
            f"{limits.max_pixels / 1e6:g} MP limit."
        )
    if min(width, height) < limits.min_side:
        raise InputError(
            f"{label} is {width}x{height} pixels, smaller than the {limits.min_side}-pixel minimum side."
        )


# --------------------------------------------------------------------------------------------------
# decoders: each returns an array H x W, H x W x 3 (RGB) or H x W x 4 (RGBA) of any numeric dtype


def _pil_decode(data: bytes, label: str, limits: ImageLimits) -> np.ndarray:
    """PNG, JPEG, BMP, WebP (and the TIFF flavours tifffile leaves to PIL)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            frames = int(getattr(image, "n_frames", 1) or 1)
            if frames > 1 and image.format in ("PNG", "WEBP"):
                raise InputError(
                    f"{label} is an animated {image.format} ({frames} frames); an inspection needs "
                    "one still image (save the frame to inspect on its own)."
                )
            _check_size(*image.size, label, limits)
            if max(image.size) > MAX_WORKING_SIDE:
                # JPEG decodes straight at a reduced scale; the rest is reduced right after
                image.draft(image.mode, (MAX_WORKING_SIDE, MAX_WORKING_SIDE))
            image.load()
            image = ImageOps.exif_transpose(image)
            if max(image.size) > MAX_WORKING_SIDE:
                log.info("%s is %dx%d; reduced to at most %d px a side", label, *image.size, MAX_WORKING_SIDE)
                image.thumbnail((MAX_WORKING_SIDE, MAX_WORKING_SIDE), Image.Resampling.BOX, reducing_gap=2.0)
    except InputError:
        raise
    except Image.DecompressionBombError as exc:
        raise InputError(
            f"{label} declares an image too large to decode safely (a possible decompression bomb)."
        ) from exc
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, struct.error, ...
        raise InputError(f"{label} is corrupt or truncated ({_reason(exc)}).") from exc
    return _pil_to_array(image)


def _pil_to_array(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("L", "RGB", "RGBA", "F") or mode.startswith("I;16"):
        return np.asarray(image)
    if mode == "I":
        return np.asarray(image, dtype=np.int32)
    if mode == "1":
        return np.asarray(image.convert("L"))
    if mode in ("P", "PA", "LA", "La", "RGBa"):
        return np.asarray(image.convert("RGBA"))
    return np.asarray(image.convert("RGB"))  # CMYK, YCbCr, LAB, HSV, RGBX


def _tiff_decode(data: bytes, label: str, limits: ImageLimits) -> np.ndarray:
    """TIFF through tifffile (16-bit, float, gray+alpha); palette, CMYK and YCbCr go to PIL."""
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            if not tif.pages:
                raise InputError(f"{label} is a TIFF without any image.")
            page = tif.pages.first
            _check_size(int(page.imagewidth), int(page.imagelength), label, limits)
            photometric = page.photometric
            if photometric not in (
                tifffile.PHOTOMETRIC.MINISBLACK,
                tifffile.PHOTOMETRIC.MINISWHITE,
                tifffile.PHOTOMETRIC.RGB,
            ):
                return _pil_decode(data, label, limits)
            pixels = page.asarray()
            planar_separate = page.planarconfig == tifffile.PLANARCONFIG.SEPARATE
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{label} is corrupt or truncated ({_reason(exc)}).") from exc
    if len(tif.pages) > 1:
        log.info("%s has several pages; using the first", label)
    if planar_separate and pixels.ndim == 3:
        pixels = np.moveaxis(pixels, 0, -1)
    if pixels.ndim == 3 and pixels.shape[-1] == 2:  # gray + alpha
        pixels = np.concatenate([np.repeat(pixels[..., :1], 3, axis=-1), pixels[..., 1:]], axis=-1)
    if photometric == tifffile.PHOTOMETRIC.MINISWHITE:
        unit = _to_unit_float(pixels, label)
        return 1.0 - unit
    return pixels


def _dicom_decode(data: bytes, label: str, limits: ImageLimits) -> np.ndarray:
    """DICOM: modality rescale (slope/intercept), then the stored window, or min-max without one."""
    import pydicom

    try:
        ds = pydicom.dcmread(io.BytesIO(data))
        if not any(key in ds for key in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
            raise InputError(f"{label} is a DICOM file without pixel data (not an image).")
        rows, cols = int(ds.Rows), int(ds.Columns)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{label} is not a readable DICOM image ({_reason(exc)}).") from exc
    _check_size(cols, rows, label, limits)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    if frames * rows * cols > limits.max_pixels:
        # decoding would materialise every frame: refuse before any pixel is decoded
        raise InputError(
            f"{label} holds {frames} frames of {cols}x{rows} pixels, more than the "
            f"{limits.max_pixels / 1e6:.0f}-megapixel limit; export the single slice to inspect."
        )
    try:
        from pydicom.pixels import pixel_array

        # only the middle frame is decoded (the one inspected), not the whole stack
        pixels = pixel_array(ds, index=frames // 2) if frames > 1 else ds.pixel_array
    except Exception as exc:
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "unknown")
        raise InputError(
            f"{label} has DICOM pixel data that cannot be decoded here (transfer syntax {syntax}: "
            f"{_reason(exc)})."
        ) from exc
    if frames > 1:
        log.info("%s has %d frames; using the middle one", label, frames)
    if samples > 1:
        return pixels  # colour DICOM: pydicom already converted YBR to RGB
    pixels = _reduce(pixels, label)  # area reduction commutes with the linear rescale below
    # float64 keeps 32-bit samples exact; 8/16-bit ones are exact in float32 at half the memory
    values = pixels.astype(np.float64 if pixels.dtype.itemsize > 2 else np.float32)
    del pixels
    values *= float(ds.get("RescaleSlope", 1) or 1)
    values += float(ds.get("RescaleIntercept", 0) or 0)
    window = _dicom_window(ds)
    if window is not None:
        center, width = window
        # DICOM PS3.3 C.11.2.1.2 linear VOI function, mapped to [0, 1] (in place).
        values -= center - 0.5
        values *= 1.0 / max(width - 1.0, 1e-6)
        values += 0.5
        unit = np.clip(values, 0.0, 1.0, out=values)
    else:
        unit = _min_max(values)
    if str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper() == "MONOCHROME1":
        unit = 1.0 - unit
    return unit.astype(np.float32, copy=False)


def _dicom_window(ds) -> tuple[float, float] | None:
    """The first stored (center, width) window, or ``None`` when there is no usable one."""
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is None or width is None:
        return None
    try:
        c, w = _first_number(center), _first_number(width)
    except (TypeError, ValueError, IndexError):
        return None
    return (c, w) if w > 0 else None


def _first_number(value) -> float:
    """A DICOM value that may be multi-valued (``MultiValue``) -> its first element as float."""
    if isinstance(value, (numbers.Number, str)):
        return float(value)
    return float(list(value)[0])


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = _OBJECT_REPR.sub("", text).strip()  # "<_io.BytesIO object at 0x7f...>" says nothing
    return safe_label(text, 200) or type(exc).__name__


# --------------------------------------------------------------------------------------------------
# normalisation


def _min_max(values: np.ndarray) -> np.ndarray:
    """Scale the finite values to ``[0, 1]`` (non-finite ones become 0), as float32."""
    wide = values.dtype.kind in "iu" and values.dtype.itemsize > 2
    out = values.astype(np.float64 if wide else np.float32)  # one working copy, changed in place
    finite = np.isfinite(out)
    if not finite.all():
        if not finite.any():
            return np.zeros(values.shape, dtype=np.float32)
        lo = float(np.min(out, where=finite, initial=np.inf))
        hi = float(np.max(out, where=finite, initial=-np.inf))
        out[~finite] = lo
    else:
        lo, hi = float(out.min()), float(out.max())
    del finite
    if hi <= lo:
        return np.zeros(values.shape, dtype=np.float32) if hi <= 0 else np.clip(out, 0.0, 1.0, out=out)
    out -= lo
    out *= 1.0 / (hi - lo)
    return np.clip(out, 0.0, 1.0, out=out).astype(np.float32, copy=False)


def _to_unit_float(pixels: np.ndarray, label: str) -> np.ndarray:
    """Scale any numeric array to float in [0, 1] by its dtype's range, then composite alpha on white.

    Returns ``H x W`` (gray) or ``H x W x 3`` (colour) float32 (float64 only for wide integers).
    """
    pixels = np.asarray(pixels)
    if pixels.dtype.kind == "b":
        unit = pixels.astype(np.float32)
    elif pixels.dtype.kind == "u":
        wide = pixels.dtype.itemsize > 2  # 32-bit samples need more than float32's 24 bits
        unit = pixels.astype(np.float64 if wide else np.float32)
        unit *= 1.0 / float(np.iinfo(pixels.dtype).max)
    elif pixels.dtype.kind == "i":
        lo, hi = float(pixels.min()), float(pixels.max())
        # PIL's mode "I" (32-bit) carries 16-bit PNG/TIFF samples: keep their absolute scale.
        unit = pixels.astype(np.float32) / np.float32(65535.0) if lo >= 0 and hi <= 65535 else _min_max(pixels)
    elif pixels.dtype.kind == "f":
        finite = np.isfinite(pixels)
        in_range = bool(finite.any()) and float(np.min(pixels, where=finite, initial=np.inf)) >= 0.0
        in_range = in_range and float(np.max(pixels, where=finite, initial=-np.inf)) <= 1.0
        del finite
        unit = np.nan_to_num(pixels.astype(np.float32), copy=False) if in_range else _min_max(pixels)
    else:
        raise InputError(f"{label} has an unsupported pixel type ({pixels.dtype}).")
    if unit.ndim == 3 and unit.shape[-1] == 1:
        unit = unit[..., 0]
    if unit.ndim == 3 and unit.shape[-1] == 4:
        alpha = unit[..., 3:]
        rgb = unit[..., :3] * alpha
        rgb += 1.0 - alpha  # composite on white
        unit = rgb
    if unit.ndim == 3 and unit.shape[-1] > 4:
        raise InputError(f"{label} has {unit.shape[-1]} channels; expected gray, RGB or RGBA.")
    if unit.ndim not in (2, 3):
        raise InputError(f"{label} has an unexpected shape {tuple(pixels.shape)} for a 2-D image.")
    return unit


def _for_modality(unit: np.ndarray, modality: Modality) -> np.ndarray:
    if modality == "ct":
        gray = unit @ _LUMA.astype(unit.dtype) if unit.ndim == 3 else unit
        return np.ascontiguousarray(np.clip(gray, 0.0, 1.0), dtype=np.float32)
    work = np.clip(unit, 0.0, 1.0)  # the one working copy, scaled and rounded in place
    work *= 255.0
    np.round(work, out=work)
    rgb = work.astype(np.uint8)
    del work
    rgb = np.repeat(rgb[..., None], 3, axis=-1) if rgb.ndim == 2 else rgb
    return np.ascontiguousarray(rgb)
