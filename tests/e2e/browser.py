"""Headless Chromium (Debian's) on a terminal of the lab, trusting the lab's CA.

Playwright starts the browser through a launcher that enters the terminal's network
namespace first: the browser then sees only the lab's segment that terminal is plugged into,
as a resident's or a staff member's machine would.
"""

from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.integration.test_browser import CHROMIUM


@contextmanager
def chromium(terminal, home: Path, names: dict[str, str]):
    """`names`: host name → address, as the city's DNS would answer (nginx answers only
    for the name in its certificate)."""
    if not Path(CHROMIUM).exists():
        raise AssertionError("Chromium is not installed: run `make test` (it installs Debian's chromium)")
    launcher = home / "chromium-in-namespace"
    launcher.write_text(f"#!/bin/sh\nexec ip netns exec {terminal.namespace} "
                        f"env HOME={home} {CHROMIUM} \"$@\"\n")
    launcher.chmod(0o755)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(launcher), env={"HOME": str(home)}, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--host-resolver-rules=" + ", ".join(f"MAP {n} {a}" for n, a in names.items())])
        try:
            yield browser
        finally:
            browser.close()
