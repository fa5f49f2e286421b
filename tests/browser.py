"""Running the app for checks and measurements: the server in a subprocess, and Debian's chromium.

Used by the browser tests and `bench/dashboard_paint.py`. Chromium is the system one (`/usr/bin/chromium`)
driven through the `playwright` package; no browser is ever downloaded. The tests' `browser` fixture is in
`conftest.py`; the small page helpers (``visible``, ``tab``, ``pick``, ``wait_text``, …) are here.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]


def chromium_path() -> str | None:
    """The system chromium, or None when it is not installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def launch_chromium(playwright):
    """A headless chromium browser from playwright's sync API, using the system executable."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


# the page's tab bar: present once the app has painted its widgets
APP_SELECTOR = ".hg-app .jupyter-widget-TabPanel-tabBar .lm-TabBar-tab"
READY_SELECTOR = ".hg-progress-line .widget-html-content:not(:empty)"


def open_app(page, url: str, timeout_s: float = 60.0) -> dict:
    """Load the dashboard in a playwright ``page`` and wait until it is usable. Returns seconds to the tabs
    (``tabs_s``), to the live progress line (``ready_s``), and the browser's first contentful paint (ms)."""
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(APP_SELECTOR, timeout=timeout_s * 1000)
    tabs = time.perf_counter() - t0
    # filled in by the kernel: attached, not necessarily visible (the page comes back on the tab it was on)
    page.locator(READY_SELECTOR).first.wait_for(state="attached", timeout=timeout_s * 1000)
    ready = time.perf_counter() - t0
    fcp = page.evaluate("() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
    return {"tabs_s": tabs, "ready_s": ready, "fcp_ms": fcp}


def visible(page, selector: str):
    """The elements matching ``selector`` that are shown (the dashboard's tabs keep hidden copies)."""
    return page.locator(selector).locator("visible=true")


def tab(page, index: int) -> None:
    """Open the dashboard's tab ``index`` (0 Single, 1 Batch, 2 History, 3 Queue)."""
    page.locator(APP_SELECTOR).nth(index).click()


def text_of(page, selector: str) -> str:
    return visible(page, selector).first.inner_text()


def pick(page, selector: str, name: str) -> None:
    """Choose the option whose text starts with ``name`` in the shown ``<select>`` matching ``selector``."""
    select = visible(page, selector)
    label = next(t for t in select.locator("option").all_inner_texts() if t.startswith(name))
    select.select_option(label=label)


def wait_until(predicate, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def saved_state(page) -> dict:
    """What this browser has remembered of the page (page.js's copy in local storage)."""
    from heygem_core.ui.memory import STORAGE_KEY

    return page.evaluate("k => JSON.parse(window.localStorage.getItem(k) || '{}')", STORAGE_KEY)


def wait_saved(page, predicate, what: str, timeout: float = 30.0) -> None:
    """Wait until the remembered state satisfies ``predicate`` (a reload before that would lose the change:
    the kernel hands its state to the browser on its next poll, which takes longer on a busy machine)."""
    wait_until(lambda: predicate(saved_state(page)), timeout, f"the page to remember {what}")


def wait_text(page, selector: str, pattern: str, timeout: float = 30.0) -> str:
    """The shown text of ``selector`` once it matches ``pattern`` (AssertionError with the last text else)."""
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        if visible(page, selector).count():
            last = text_of(page, selector)
            if re.search(pattern, last):
                return last
        time.sleep(0.1)
    raise AssertionError(f"{selector!r} never matched {pattern!r}; last: {last!r}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServerProcess:
    """`heygem serve` in a subprocess: ``url`` (with the token, if any) once it answers; ``stop()`` ends it.

    ``args`` are extra command-line flags (``["--lang", "en"]``). The server's output goes to
    ``<root>/logs/serve.out``.
    """

    def __init__(self, root: str | Path, *, port: int | None = None, ip: str = "127.0.0.1",
                 args: list[str] | None = None, env: dict | None = None, timeout: float = 60.0):
        self.root = Path(root)
        self.ip = ip
        self.port = port or free_port()
        self.url: str | None = None
        self.lines: list[str] = []
        cmd = [sys.executable, "-m", "heygem_core.cli", "serve", "--root-path", str(self.root), "--port",
               str(self.port), "--ip", ip, *(args or [])]
        run_env = dict(os.environ)
        run_env.update(env or {})
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        self._err = open(self.root / "logs" / "serve.out", "ab")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._err, env=run_env,
                                     start_new_session=True, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._wait_ready(timeout)
        self.ready_s = time.perf_counter() - self.started

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}: {self.log_tail()}")
            if self.url is None:
                for line in self.lines:
                    m = re.search(r"HeyGem Workbench: (http\S+)", line)
                    if m:
                        self.url = m.group(1)
            if self.url is not None and self._answers():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s: {self.log_tail()}")

    @property
    def local_url(self) -> str:
        """The page's address as this machine reaches it (127.0.0.1 even for a wildcard bind)."""
        assert self.url is not None
        return re.sub(r"^http://[^/]+", f"http://127.0.0.1:{self.port}", self.url)

    @property
    def token(self) -> str | None:
        m = re.search(r"[?&]token=([^&]+)", self.url or "")
        return m.group(1) if m else None

    def _answers(self) -> bool:
        """The port accepts connections (Voilà registers its handlers before it listens)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def log_tail(self, n: int = 3000) -> str:
        try:
            return (self.root / "logs" / "serve.out").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM the server (it stops the worker it started) and wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._err.close()
        return self.proc.returncode

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
