"""Build the scheduling report of a warehouse and save a full-page screenshot of it as docs/report.png.

    .venv/bin/python docs/screenshot_report.py                     # the demo warehouse (runs the demo if missing)
    .venv/bin/python docs/screenshot_report.py path/to/warehouse.duckdb --out /tmp/report.png

Needs a Chromium or Chrome on PATH (Debian: `apt-get install chromium`). Chromium's headless
screenshot is as tall as its window, so the window is made taller than any report and the
screenshot then cut below the page's end.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.cli import DEMO_WAREHOUSE  # noqa: E402 – after the path set-up
from pipelines.report import build_report  # noqa: E402

WIDTH = 1280
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser() -> str:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    sys.exit("screenshot_report: no Chromium or Chrome on PATH (Debian: apt-get install chromium)")


def screenshot(page: Path, png: Path, height: int) -> Image.Image:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--force-device-scale-factor=1", f"--user-data-dir={profile}", f"--window-size={WIDTH},{height}",
             f"--screenshot={png}", page.resolve().as_uri()],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    return Image.open(png).convert("RGB")


def page_end(image: Image.Image) -> int | None:
    """The first row of the empty background below the page, or None if the page reaches the bottom."""
    background = image.getpixel((0, image.height - 1))
    width, height = image.size
    rows = image.tobytes()
    empty_row = bytes(background) * width
    end = height
    while end > 0 and rows[(end - 1) * width * 3: end * width * 3] == empty_row:
        end -= 1
    return end if end < height else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", nargs="?", type=Path, help=f"default {DEMO_WAREHOUSE.relative_to(ROOT)}")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    args = parser.parse_args()

    warehouse = args.warehouse or DEMO_WAREHOUSE
    if args.warehouse is None and not warehouse.exists():
        subprocess.run([sys.executable, "-m", "pipelines.cli", "demo"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as out_dir:
        report = build_report(warehouse, Path(out_dir))
        height = 6000
        while True:
            image = screenshot(report.path, args.out, height)
            end = page_end(image)
            if end is not None:
                break
            if height > 40000:
                sys.exit(f"screenshot_report: the page is taller than {height} px")
            height *= 2
    bottom = min(end + 24, image.height)
    image.crop((0, 0, WIDTH, bottom)).save(args.out, optimize=True)
    print(f"{args.out} ({WIDTH}×{bottom}) from {report.path.name} of {warehouse}")


if __name__ == "__main__":
    main()
