"""Retake the README screenshots: drive the web chat page of a running demo desk in Chromium.

    make run                                   # in one terminal (fresh database)
    .venv/bin/pip install playwright           # the Python driver; the browser is Debian's chromium
    .venv/bin/python docs/screenshots.py [http://127.0.0.1:8000/]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import Locator, Page, sync_playwright

OUT = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def send(page: Page, pane: Locator, text: str) -> None:
    pane.locator("[data-testid=input]").fill(text)
    pane.locator("[data-testid=send]").click()
    page.wait_for_timeout(700)


def main(url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(url)
        page.wait_for_timeout(1500)
        clerk, engineer = page.locator("[data-testid=pane-left]"), page.locator("[data-testid=pane-right]")
        for text in ("打印机卡纸了 急急急", "0", "1", "2", "大厅那台惠普 一打印就卡 纸都皱了"):
            send(page, clerk, text)
        page.wait_for_timeout(2500)
        page.screenshot(path=str(OUT / "1-report.png"))
        number = re.findall(r"#(\d+)", clerk.locator("[data-testid=message-list]").inner_text())[-1]
        send(page, engineer, f"接单 {number}")
        page.wait_for_timeout(2500)
        send(page, engineer, f"解决 {number} 已更换硒鼓")
        page.wait_for_timeout(2500)
        send(page, clerk, "解决了")
        send(page, clerk, "5 很快")
        page.wait_for_timeout(2500)
        page.screenshot(path=str(OUT / "2-claim.png"))
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/")
