"""Open a report in headless Chromium with the network off, hover a region and a heatmap cell, screenshot both.

Run: ``python -m bench.report_hover reports/RUN_ID/report.html [--out /tmp]``. Hovers the region with the
most texts at the last layer and, in the heatmaps, that region's cell for its dominant label; prints both
tooltips and the requests that tried to leave the machine (there must be none), and writes
``report_hover_graph.png`` and ``report_hover_heatmap.png`` to ``--out``. ``tests/test_report_hover.py``
drives the same functions on a hand-made scan. Chromium: ``/usr/bin/chromium`` or ``$CHROMIUM``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LOCAL = ("file:", "data:", "about:", "blob:")


@contextlib.contextmanager
def offline_page(report: Path, *, attempted: list[str], width: int = 1200, height: int = 900) -> Iterator[Any]:
    """A Playwright page showing ``report``; every request not to a local URL is aborted and appended to ``attempted``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise ImportError(
            "driving Chromium needs the playwright package: uv sync --extra test "
            '(or pip install "llm-mri-graphdb[test]").'
        ) from exc
    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(
            f"Chromium is missing at {CHROMIUM}: install it (apt-get install chromium) or set $CHROMIUM."
        )

    def only_local(route):
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--host-resolver-rules=MAP * ~NOTFOUND"])
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
            context.route("**/*", only_local)
            page = context.new_page()
            page.goto(Path(report).resolve().as_uri())
            yield page
        finally:
            browser.close()


def graph_frame(page: Any, region: str) -> Any:
    """The report's interactive graph frame, once NVL has drawn ``region``."""
    page.locator("iframe[title=NRAG]").scroll_into_view_if_needed()
    frame = next(f for f in page.frames if f.url == "about:srcdoc")
    frame.wait_for_function(
        f"window.llmMriView && window.llmMriView.screenPosition({json.dumps(region)})", timeout=30000
    )
    return frame


def hover_region(page: Any, region: str, screenshot: Path | None = None) -> Any:
    """Move the pointer onto ``region`` in the graph; return the frame's visible tooltip."""
    frame = graph_frame(page, region)
    box = page.locator("iframe[title=NRAG]").bounding_box()
    pos = frame.evaluate(f"window.llmMriView.screenPosition({json.dumps(region)})")
    page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
    tip = frame.locator(".llm-mri-tip")
    tip.wait_for(state="visible", timeout=5000)
    if screenshot is not None:
        page.screenshot(path=str(screenshot), clip=box)
    return tip


def hover_cell(page: Any, layer: int, label: str, region: str, screenshot: Path | None = None) -> Any:
    """Hover the heatmap cell of ``region`` in the panel of ``layer`` and ``label``; return the visible tooltip."""
    cell = page.locator(f"svg[data-layer='{layer}'][data-label={json.dumps(label)}] rect[data-r='{region}']")
    cell.scroll_into_view_if_needed()
    cell.hover()
    tip = page.locator("body > .llm-mri-tip")
    tip.wait_for(state="visible", timeout=5000)
    if screenshot is not None:
        page.screenshot(path=str(screenshot))
    return tip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--out", type=Path, default=Path("/tmp"))
    args = parser.parse_args()
    attempted: list[str] = []
    with offline_page(args.report, attempted=attempted) as page:
        data = json.loads(page.locator("#llm-mri-heatmaps").text_content())
        last = max(int(r.split("_")[0]) for r in data["counts"])
        region = max((r for r in data["counts"] if r.startswith(f"{last}_")), key=lambda r: sum(data["counts"][r]))
        counts = data["counts"][region]
        label = data["labels"][counts.index(max(counts))]
        print("graph tooltip:\n" + hover_region(page, region, args.out / "report_hover_graph.png").inner_text())
        print(
            "\nheatmap tooltip:\n"
            + hover_cell(page, last, label, region, args.out / "report_hover_heatmap.png").inner_text()
        )
    print(f"\nrequests that tried to leave the machine: {attempted or 'none'}")
    if attempted:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
