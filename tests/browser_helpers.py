"""Headless Chromium for the report tests: read a page as a browser renders it, offline."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    raise AssertionError(
        "headless Chromium is required for the report test: apt-get install -y chromium"
    )


def headless(tmp_path: Path) -> list[str]:
    """Chromium headless and offline (a dead proxy for everything but loopback)."""
    return [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        "--user-data-dir=" + str(tmp_path / "profile"),
        "--virtual-time-budget=5000",
    ]


def probe_page(tmp_path: Path, html: str, probe: str) -> Any:
    """Load ``html`` with the ``probe`` script added and return the JSON the script put
    in ``<pre id="probe">`` once the page had loaded."""
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", probe + "</body>"))
    dom = subprocess.run(
        [*headless(tmp_path), "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert m, "the page did not load"
    return json.loads(html_lib.unescape(m.group(1)))
