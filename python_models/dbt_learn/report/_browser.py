"""A screenshot of a report page in headless Chromium (Debian's chromium), to check what a reader would see."""

import shutil
import subprocess
import tempfile


def chromium():
    """The Chromium executable, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page, out, width=1200, height=2400):
    """Render ``page`` (an HTML file) into the PNG ``out`` at width x height pixels; returns ``out``."""
    browser = chromium()
    if browser is None:
        raise RuntimeError("dbt_learn report: chromium is not installed; install it (apt-get install chromium, or "
                           "make setup) to take screenshots.")
    with tempfile.TemporaryDirectory() as profile:  # a throwaway profile: nothing of the user's, nothing left
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={profile}", f"--screenshot={out}", f"--window-size={width},{height}",
                        page.resolve().as_uri()], check=True, capture_output=True, timeout=120)
    return out
