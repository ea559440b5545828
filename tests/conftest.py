"""Fixtures shared by more than one test folder: the system Chromium under Playwright.

The browser tests (tests/browser, tests/hub) drive /usr/bin/chromium (the Debian package, which `make
test` installs through scripts/install-chromium.sh; CHROMIUM=/path overrides) with Playwright's sync
API; Playwright's own browser download is not used. One Chromium serves the whole session: Playwright's
sync API cannot run two at once in one thread.
"""

import os
from pathlib import Path

import pytest

from tests.browser.helpers import ROOT

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
INSTALL_LOG = ROOT / "runs" / "chromium-install.log"
# Without the background-networking flags Chromium keeps opening connections that a closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """The system Chromium under Playwright; skips (with the installer's reason) where it is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = INSTALL_LOG.read_text().strip() if INSTALL_LOG.is_file() else (
            "run `make test` (it installs the Debian package chromium) or `apt-get install chromium`")
        pytest.skip(f"Chromium is not installed at {CHROMIUM}, so the browser tests cannot run: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
