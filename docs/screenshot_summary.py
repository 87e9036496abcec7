"""Regenerate the README screenshot of the Summary page (``docs/summary.png``).

Starts ``streamlit run app.py`` on a free localhost port with the shipped ``checkpoints/`` and
``assets/``, drives Debian chromium through Playwright (like ``tests/app/test_e2e_browser.py``),
uploads a CT + RGB pair on the Inspect page, waits until the Summary page shows the verdict,
the VLM / VLG results and every image, and saves a full-page screenshot.

Usage::

    .venv/bin/python docs/screenshot_summary.py \\
        --ct assets/ct/s1-cell-0027_x002.png --rgb assets/rgb/s1-cell-0027_rgb02.png \\
        --battery-type cell --axis x --out docs/summary.png
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from inspector.ui.browser import CHROMIUM, CHROMIUM_ARGS, REPO, VERDICT_HEADING, streamlit_server

log = logging.getLogger("screenshot_summary")

RUN_LABEL = "검사 실행"
BATTERY_LABELS = {"cell": "셀", "module": "모듈"}
AXIS_LABELS = {"x": "x축", "y": "y축"}
# Environment variables that would point the app away from the shipped models and samples.
FIXTURE_ENV = ("INSPECTOR_CHECKPOINTS_DIR", "INSPECTOR_ASSETS_DIR", "INSPECTOR_DOCS_DIR")
DB_URL = "sqlite:////tmp/screenshot_history.db"
VIEWPORT = {"width": 1500, "height": 1500}


@contextmanager
def shipped_app(logfile: Path, startup_seconds: float = 90.0) -> Iterator[str]:
    """The app on the shipped models and samples, with a throw-away history database."""
    env = {key: value for key, value in os.environ.items() if key not in FIXTURE_ENV}
    env["INSPECTOR_DB_URL"] = DB_URL
    env.setdefault("OMP_NUM_THREADS", "1")  # a shared 2-core machine: keep the inference modest
    with streamlit_server(env, logfile, startup_seconds) as url:
        yield url


def _pick_radio(page, group_label: str, option_label: str) -> None:
    """Click ``option_label`` in the Streamlit radio group labelled ``group_label``."""
    group = page.locator('[data-testid="stRadio"]').filter(has_text=group_label)
    group.get_by_text(option_label, exact=True).click()


def capture(url: str, ct: Path, rgb: Path, battery_type: str, axis: str, out: Path, timeout_s: float) -> None:
    """Inspect ``ct`` + ``rgb`` in the app at ``url`` and save the Summary page to ``out``.

    Args:
        url: base URL of the running app.
        ct: CT slice to upload.
        rgb: RGB photo to upload.
        battery_type: ``cell`` or ``module`` (the Inspect page's battery type radio).
        axis: ``x`` or ``y`` (the Inspect page's axis radio).
        out: PNG to write.
        timeout_s: per-step timeout of the browser actions.

    Raises:
        RuntimeError: if the Summary page shows an error message.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(timeout_s * 1000)
        try:
            page.goto(url)
            page.get_by_role("button", name=RUN_LABEL).wait_for()  # drawn once the models are warm
            uploads = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
            for index, (side, path) in enumerate((("ct", ct), ("rgb", rgb))):
                uploads.nth(index).set_input_files(str(path))
                page.get_by_text(f"{side.upper()}: {path.name}").wait_for()  # the server's preview
                log.info("uploaded %s: %s", side, path)
            _pick_radio(page, "배터리 종류", BATTERY_LABELS[battery_type])
            _pick_radio(page, "촬영 축", AXIS_LABELS[axis])
            page.get_by_role("button", name=RUN_LABEL).click()

            heading = page.get_by_role("heading", name=VERDICT_HEADING)
            heading.wait_for()
            log.info("verdict: %s", heading.inner_text().strip())
            page.get_by_text("findings_writer").first.wait_for()
            page.get_by_text("model_boxes").first.wait_for()
            page.wait_for_function(
                "!document.body.innerText.includes('실행 중…')"  # no backend still pending
            )
            page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")  # reruns settled
            page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
            page.wait_for_timeout(1000)  # let the last re-draw and the fonts paint

            errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
            if errors.count():
                raise RuntimeError(f"the Summary page shows an error: {errors.first.inner_text()}")
            page.screenshot(path=str(out), full_page=True)
            log.info("wrote %s", out)
        except Exception:
            failure = Path(tempfile.gettempdir()) / "screenshot_summary_failure.png"
            page.screenshot(path=str(failure), full_page=True)
            log.error("failed; page screenshot in %s, text:\n%s", failure, page.inner_text("body")[-3000:])
            raise
        finally:
            browser.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ct", type=Path, required=True, help="CT slice to upload")
    parser.add_argument("--rgb", type=Path, required=True, help="RGB photo to upload")
    parser.add_argument("--battery-type", choices=sorted(BATTERY_LABELS), default="cell")
    parser.add_argument("--axis", choices=sorted(AXIS_LABELS), default="x")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "summary.png", help="PNG to write")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per browser step")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start the app, take the screenshot, stop the app."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing (run `make browser`)")
    ct, rgb, out = args.ct.resolve(), args.rgb.resolve(), args.out.resolve()
    for path in (ct, rgb):
        if not path.is_file():
            raise SystemExit(f"no such file: {path}")
    logfile = Path(tempfile.gettempdir()) / "screenshot_summary_streamlit.log"
    with shipped_app(logfile) as url:
        capture(url, ct, rgb, args.battery_type, args.axis, out, args.timeout)


if __name__ == "__main__":
    main()
