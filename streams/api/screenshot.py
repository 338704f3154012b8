"""A screenshot of the dashboard (docs/dashboard.png), with headless Chromium via Playwright
(a dev dependency; the system's Chromium, as in the tests):

    forewarn run &                    # prints "dashboard http://127.0.0.1:8080/"
    python -m streams.api.screenshot http://127.0.0.1:8080/ docs/dashboard.png --wait 90
"""

from __future__ import annotations

import argparse
import shutil
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.api.screenshot")
    p.add_argument("url")
    p.add_argument("out")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to watch before the shot")
    p.add_argument("--select", help="component to open (default: the riskiest)")
    p.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(args.url)
            page.locator("#components tbody tr").first.wait_for(timeout=120_000)
            page.wait_for_timeout(args.wait * 1000)
            if args.select:
                page.click(f'#components tr[data-id="{args.select}"]')
            page.wait_for_timeout(2000)
            page.screenshot(path=args.out, full_page=True)
        finally:
            browser.close()
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
