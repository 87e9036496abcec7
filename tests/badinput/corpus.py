"""A corpus of bad, odd and borderline image files, written on demand to a folder.

Every case is one small builder; :func:`write_corpus` writes them all and returns what each is
expected to do. Expectations are deliberately coarse: ``"accept"`` (decodes to a sensible
image), ``"reject"`` (refused with one sentence), ``"either"`` (both are fine, a traceback is
not). ``review`` marks the CT slices that carry no usable signal: if accepted, their inspection
must come back with ``needs_review: true``.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 64


@dataclass(frozen=True)
class Case:
    """One corpus file: its name, its bytes' builder and what the decoder should do with it."""

    key: str
    filename: str
    build: Callable[[], bytes]
    expect: str = "either"  # accept | reject | either
    review: bool = False  # a blank/degenerate CT: accepted only with needs_review


def _rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _gray8() -> np.ndarray:
    image = (_rng().random((SIDE, SIDE)) * 80 + 60).astype(np.uint8)
    image[20:30, 24:34] = 230
    return image


def _rgb8() -> np.ndarray:
    image = (_rng().random((SIDE, SIDE, 3)) * 60 + 120).astype(np.uint8)
    image[40:44, 8:50] = 10
    return image


def _pil(array_or_image: np.ndarray | Image.Image, fmt: str, **kwargs) -> bytes:
    image = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _tiff(array: np.ndarray, **kwargs) -> bytes:
    import tifffile

    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, **kwargs)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_bomb() -> bytes:
    """A valid PNG header declaring 100000 x 100000 pixels, with almost no data."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _png_bad_crc() -> bytes:
    data = bytearray(_pil(_gray8(), "PNG"))
    data[29] ^= 0xFF  # inside the IHDR CRC
    return bytes(data)


def _jpeg_bomb() -> bytes:
    """A JPEG whose SOF0 header claims 65000 x 65000 pixels."""
    data = bytearray(_pil(_gray8(), "JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def _tiff_bomb() -> bytes:
    """A little-endian TIFF whose tags claim 200000 x 200000 8-bit pixels in one tiny strip."""
    entries = [
        (256, 4, 1, 200_000),  # ImageWidth
        (257, 4, 1, 200_000),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # BlackIsZero
        (273, 4, 1, 8 + 2 + 12 * 9 + 4),  # StripOffsets: just after the IFD
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, 200_000),  # RowsPerStrip
        (279, 4, 1, 16),  # StripByteCounts
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<H", value) + b"\0\0" if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\0" * 16


def _dicom(
    array: np.ndarray | None,
    transfer: str = "1.2.840.10008.1.2.1",
    frames: int = 1,
    signed: bool = False,
    encoder: Callable[[np.ndarray], bytes] | None = None,
) -> bytes:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = transfer
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    if array is not None:
        bits = array.dtype.itemsize * 8
        ds.Rows, ds.Columns = array.shape[-2:]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = bits
        ds.BitsStored = bits
        ds.HighBit = bits - 1
        ds.PixelRepresentation = 1 if signed else 0
        if frames > 1:
            ds.NumberOfFrames = frames
        if encoder is not None:
            ds.PixelData = encapsulate([encoder(array)])
            ds["PixelData"].VR = "OB"
        else:
            ds.PixelData = array.tobytes()
            ds["PixelData"].VR = "OW" if bits > 8 else "OB"
        if signed:
            ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _dicom_rle() -> bytes:
    from pydicom import dcmread
    from pydicom.uid import RLELossless

    ds = dcmread(io.BytesIO(_dicom(_gray8())))
    ds.compress(RLELossless, encoding_plugin="pydicom")
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _gif(frames: int) -> bytes:
    images = [Image.fromarray(np.roll(_gray8(), 5 * i, axis=1)) for i in range(frames)]
    return _pil(images[0], "GIF", save_all=frames > 1, append_images=images[1:], duration=100, loop=0)


def _webp_animated() -> bytes:
    images = [Image.fromarray(np.roll(_rgb8(), 5 * i, axis=1)) for i in range(3)]
    return _pil(images[0], "WEBP", save_all=True, append_images=images[1:], duration=100)


def _exif_rotated() -> bytes:
    image = Image.fromarray(np.ascontiguousarray(_rgb8()[:, :48]))  # 48 wide, 64 high
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    return _pil(image, "JPEG", exif=exif.tobytes())


def _multipage() -> bytes:
    return _tiff(np.stack([_gray8(), 255 - _gray8(), _gray8()]))


def _float_tiff(nan_fraction: float) -> bytes:
    image = _gray8().astype(np.float32) / 255.0
    if nan_fraction >= 1.0:
        image[:] = np.nan
    else:
        image[::7, ::5] = np.nan
        image[3, :] = np.inf
        image[5, :] = -np.inf
    return _tiff(image)


def _huge(side: int) -> bytes:
    image = np.full((side, side), 90, np.uint8)
    image[side // 3 : side // 2, side // 3 : side // 2] = 200
    return _pil(image, "PNG", compress_level=1)


def cases() -> list[Case]:
    """Every corpus case (builders are cheap; the huge ones take about a second)."""
    gray, rgb = _gray8(), _rgb8()
    g16 = (gray.astype(np.uint16) * 257)
    return [
        Case("empty", "empty.png", lambda: b"", "reject"),
        Case("random_bytes", "random.png", lambda: _rng().bytes(4096), "reject"),
        Case("random_bytes_noext", "random", lambda: _rng().bytes(512), "reject"),
        Case("truncated_png", "truncated.png", lambda: _pil(rgb, "PNG")[:200], "reject"),
        Case("truncated_jpeg", "truncated.jpg", lambda: _pil(rgb, "JPEG")[:300], "either"),
        Case("truncated_tiff", "truncated.tif", lambda: _tiff(g16)[:600], "reject"),
        Case("png_crc_error", "crc.png", _png_bad_crc, "reject"),
        Case("one_by_one", "one.png", lambda: _pil(np.zeros((1, 1), np.uint8), "PNG"), "reject"),
        Case("bomb_png_header", "bomb.png", _png_bomb, "reject"),
        Case("bomb_jpeg_header", "bomb.jpg", _jpeg_bomb, "reject"),
        Case("bomb_tiff_header", "bomb.tif", _tiff_bomb, "reject"),
        Case("huge_valid_6000", "huge_6000.png", lambda: _huge(6000), "accept"),
        Case("huge_over_budget_7000", "huge_7000.png", lambda: _huge(7000), "reject"),
        Case("aspect_1_to_40", "strip.png", lambda: _pil(np.full((16, 640), 128, np.uint8), "PNG"), "reject"),
        Case("gray8", "gray8.png", lambda: _pil(gray, "PNG"), "accept"),
        Case("gray16", "gray16.png", lambda: _pil(g16, "PNG"), "accept"),
        Case("gray12_tiff", "gray12.tif", lambda: _tiff(gray.astype(np.uint16) * 16), "accept"),
        Case("int16_signed_tiff", "signed.tif", lambda: _tiff(gray.astype(np.int16) * 100 - 12000), "accept"),
        Case("float_nan_inf_tiff", "float_naninf.tif", lambda: _float_tiff(0.1), "either"),
        Case("float_all_nan_tiff", "float_allnan.tif", lambda: _float_tiff(1.0), "either", review=True),
        Case("all_zero", "zero.png", lambda: _pil(np.zeros((SIDE, SIDE), np.uint8), "PNG"), "either", True),
        Case("all_max16", "max16.png", lambda: _pil(np.full((SIDE, SIDE), 65535, np.uint16), "PNG"), "either", True),
        Case("rgba", "rgba.png", lambda: _pil(np.dstack([rgb, np.full((SIDE, SIDE), 200, np.uint8)]), "PNG"), "accept"),
        Case("palette", "palette.png", lambda: _pil(Image.fromarray(rgb).convert("P"), "PNG"), "accept"),
        Case("cmyk_jpeg", "cmyk.jpg", lambda: _pil(Image.fromarray(rgb).convert("CMYK"), "JPEG"), "accept"),
        Case("bilevel_png", "bilevel.png", lambda: _pil(Image.fromarray(gray).convert("1"), "PNG"), "accept"),
        Case("bilevel_tiff_g4", "bilevel.tif", lambda: _pil(Image.fromarray(gray).convert("1"), "TIFF", compression="group4"), "either"),
        Case("rgb48_png", "rgb48.tif", lambda: _tiff(rgb.astype(np.uint16) * 257, photometric="rgb"), "accept"),
        Case("multipage_tiff", "multipage.tif", _multipage, "either"),
        Case("animated_gif", "animated.gif", lambda: _gif(3), "reject"),
        Case("still_gif", "still.gif", lambda: _gif(1), "reject"),
        Case("webp", "photo.webp", lambda: _pil(rgb, "WEBP", lossless=True), "accept"),
        Case("animated_webp", "animated.webp", _webp_animated, "reject"),
        Case("bmp", "photo.bmp", lambda: _pil(rgb, "BMP"), "accept"),
        Case("svg", "drawing.svg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>', "reject"),
        Case("pdf", "scan.pdf", lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "reject"),
        Case("text_renamed", "notes.png", lambda: b"this is a text file, not an image\n", "reject"),
        Case("dicom_valid", "slice.dcm", lambda: _dicom(g16), "accept"),
        Case("dicom_signed_rescale", "signed.dcm", lambda: _dicom(gray.astype(np.int16) * 10 - 500, signed=True), "accept"),
        Case("dicom_invalid", "broken.dcm", lambda: b"\0" * 128 + b"DICM" + _rng().bytes(300), "reject"),
        Case("dicom_no_pixels", "nopixels.dcm", lambda: _dicom(None), "reject"),
        Case("dicom_multiframe", "frames.dcm", lambda: _dicom(np.stack([g16, g16[::-1], g16]), frames=3), "accept"),
        Case("dicom_jpeg_baseline", "jpeg.dcm", lambda: _dicom(gray, "1.2.840.10008.1.2.4.50", encoder=lambda a: _pil(a, "JPEG", quality=95)), "accept"),
        Case("dicom_jpeg2000", "j2k.dcm", lambda: _dicom(gray, "1.2.840.10008.1.2.4.90", encoder=lambda a: _pil(a, "JPEG2000", irreversible=False, no_jp2=True)), "accept"),
        Case("dicom_rle", "rle.dcm", _dicom_rle, "accept"),
        Case("tiff_lzw", "lzw.tif", lambda: _tiff(g16, compression="lzw"), "accept"),
        Case("tiff_deflate", "deflate.tif", lambda: _tiff(g16, compression="zlib"), "accept"),
        Case("tiff_jpeg", "jpeg.tif", lambda: _tiff(gray, compression="jpeg"), "accept"),
        Case("exif_rotated", "rotated.jpg", _exif_rotated, "accept"),
        Case("newline_name_bad", "bad\nname.png", lambda: b"not an image", "reject"),
        Case("newline_name_good", "good\nname.png", lambda: _pil(gray, "PNG"), "accept"),
        Case("unicode_name", "배터리 단면 ①.png", lambda: _pil(gray, "PNG"), "accept"),
    ]


#: Cases that take noticeably longer (big images).
SLOW = frozenset({"huge_valid_6000", "huge_over_budget_7000"})


def write_corpus(folder: Path, only: set[str] | None = None) -> dict[str, Path]:
    """Write every case (or those in ``only``) under ``folder``; return ``{key: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in cases():
        if only is not None and case.key not in only:
            continue
        path = folder / case.key / case.filename  # one folder each: odd names never collide
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(case.build())
        paths[case.key] = path
    return paths
