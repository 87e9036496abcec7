"""Coverage-guided fuzzing of :func:`core.imageio.load_image` with atheris (libFuzzer).

Run as ``python -m tests.badinput.fuzz_imageio [libFuzzer flags] [SEED_DIR]``; for example
``-max_total_time=60 -max_len=65536 -timeout=30 seeds/``. Every input is decoded as CT and as
RGB: a :class:`core.errors.InputError` (the project's "refused with a reason" family) is fine,
an accepted image must have the documented dtype, shape and range, and anything else (another
exception, a failed check) is a crash that libFuzzer reports and saves as ``crash-*``.
``tests/badinput/test_fuzz.py`` runs this for a bounded time in the slow suite.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["core", "PIL", "tifffile", "pydicom"]):
    import numpy as np

    from core.errors import InputError
    from core.imageio import load_image

#: Smaller than the production limits, so the fuzzer spends its time on parsing, not on
#: decoding 40-megapixel images its mutations declare (the limit checks are the same code).
MAX_PIXELS = 4_000_000


def check_one(data: bytes) -> None:
    """Decode ``data`` as CT and as RGB; raise on anything but a clean refusal or a valid image."""
    for modality in ("ct", "rgb"):
        try:
            image = load_image(data, modality, max_pixels=MAX_PIXELS, name="fuzz.bin")
        except InputError as exc:
            message = str(exc)
            if not message or "\n" in message:
                raise AssertionError(f"refusal is not one sentence: {message!r}") from None
            continue
        array = np.asarray(image)
        if modality == "ct":
            ok = array.ndim == 2 and array.dtype == np.float32 and bool(np.isfinite(array).all())
            ok = ok and float(array.min()) >= 0.0 and float(array.max()) <= 1.0
        else:
            ok = array.ndim == 3 and array.shape[2] == 3 and array.dtype == np.uint8
        if not ok or min(array.shape[:2]) < 8:
            raise AssertionError(f"accepted a bad {modality} array: {array.dtype} {array.shape}")


def main(argv: list[str]) -> None:
    """Start libFuzzer with ``argv`` (it exits the process when done)."""
    atheris.Setup(argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
