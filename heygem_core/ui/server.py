"""Serving the dashboard: one Voilà server over one workspace.

The page is `dashboards/heygem.ipynb` run by Voilà, from a copy in ``<root>/.app/``. Stock Voilà serves
`/voila/files/<path>` from the notebook's folder to anyone; here that handler is replaced by one that serves
from the workspace root, only what the allow-list admits (finished videos, their thumbnails and ZIP exports:
never uploads, the job database or logs), and only to a logged-in browser when a token is set.

Kernels learn the workspace and language from the environment (`HEYGEM_ROOT`, `HEYGEM_LANG`,
`HEYGEM_MAX_UPLOAD_MB`), which they inherit from this process.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from ..resources import dashboard_notebook


log = logging.getLogger(__name__)

APP_DIR = ".app"
NOTEBOOK_NAME = "heygem.ipynb"
TEMPLATE_NAME = "heygem"
# What `/voila/files/` may serve: finished videos, ZIP exports and thumbnails. Names only, no sub-folders
# except `exports/`; `..` and hidden names never match.
FILE_ALLOWLIST = [
    r"outputs/[^/.][^/]*\.mp4",
    r"outputs/exports/[^/.][^/]*\.zip",
    r"thumbnails/[^/.][^/]*\.jpg",
    # uploaded face videos and photos (uploads/<16 hex digits of content hash>/<name>): the templates of the
    # before/after view; speech and anything else stays unserved
    r"uploads/[0-9a-f]{16}/[^/.][^/]*\.(mp4|m4v|mov|webm|jpe?g|png|webp)",
]
FILE_DENYLIST = [r".*\.(ipynb|py|sqlite|db|log|json|yaml)", r".*(^|/)\.[^/]*"]
DEFAULT_MAX_UPLOAD_MB = 500
# The upload widget sends every file chosen at once in one websocket message. The server accepts messages
# well above the per-file limit, so that an oversized file still arrives and gets a message, not silence.
WEBSOCKET_FACTOR = 4

ENV_ROOT = "HEYGEM_ROOT"
ENV_LANG = "HEYGEM_LANG"
ENV_MAX_UPLOAD = "HEYGEM_MAX_UPLOAD_MB"


@dataclass(frozen=True)
class ServeSettings:
    """Everything `heygem serve` decides before Voilà starts."""

    root: Path
    port: int = 7860
    ip: str = "127.0.0.1"
    token: str = ""  # empty: no login (only allowed on loopback addresses)
    lang: str = "zh"
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    cull_idle_s: int = 900
    max_pages: int = 20         # live page kernels at once; beyond, a "too many open pages" page
    page_grace_s: float = 60.0  # a page kernel with no connection for this long is shut down

    @property
    def url(self) -> str:
        host = self.ip
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        elif ":" in host:
            host = f"[{host}]"
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"


def is_loopback(ip: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def resolve_token(ip: str, token: str | None) -> str:
    """The token the server will require: the one given, a new one for non-loopback binds, else none."""
    if token:
        return token
    if is_loopback(ip):
        return ""
    return secrets.token_urlsafe(24)


def prepare_app_dir(root: Path, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB) -> Path:
    """Write the notebook and the page template into ``<root>/.app/``; return the notebook's path."""
    root = Path(root).resolve()
    app_dir = root / APP_DIR
    app_dir.mkdir(parents=True, exist_ok=True)
    for name in ("outputs", "thumbnails", "outputs/exports"):
        (root / name).mkdir(parents=True, exist_ok=True)
    _write_if_changed(app_dir / NOTEBOOK_NAME, dashboard_notebook().read_text(encoding="utf-8"))
    template = app_dir / "share" / "voila" / "templates" / TEMPLATE_NAME
    template.mkdir(parents=True, exist_ok=True)
    _write_if_changed(template / "conf.json", json.dumps({"base_template": "lab"}))
    _write_if_changed(template / "index.html.j2", page_template(max_upload_mb))
    return app_dir / NOTEBOOK_NAME


def page_template(max_upload_mb: float) -> str:
    """Voilà's lab page, minus its stylesheets from a public CDN (the widgets bring their own icons: the page
    makes no request outside this server), plus the in-browser upload size check (upload_guard.js)."""
    from .i18n import TEXT

    limit = int(max_upload_mb * 1024 * 1024)
    settings = {"limit": limit, "cap": limit * WEBSOCKET_FACTOR,
                "text": {k: list(TEXT[k]) for k in ("too_big", "too_much")}}
    guard = (Path(__file__).parent / "upload_guard.js").read_text(encoding="utf-8")
    from .memory import page_settings

    guard += "\nwindow.HEYGEM_PAGE = " + json.dumps(page_settings(), ensure_ascii=False) + ";\n"
    for script in ("page.js", "upload_drop.js", "compare.js"):
        guard += (Path(__file__).parent / script).read_text(encoding="utf-8")
    return (
        "{%- extends 'voila/templates/lab/index.html.j2' -%}\n"
        "{% import 'spinner.macro.html.j2' as spinner %}\n"
        "{%- block html_head_js -%}\n{{ super() }}\n"
        f"<script>window.HEYGEM_UPLOAD = {json.dumps(settings, ensure_ascii=False)};</script>\n"
        "<script>{% raw %}\n" + guard + "{% endraw %}</script>\n"
        "{%- endblock html_head_js -%}\n"
        "{%- block notebook_css -%}\n"
        '{% if frontend == "voila" %}{{ resources.include_js("static/voila-style.js") }}{% endif %}\n'
        "{{ spinner.css() }}\n"
        "<style>.jp-mod-noOutputs.jp-mod-noInput { display: none; }</style>\n"
        "{{ super.super() }}\n"
        "{%- endblock notebook_css -%}\n")


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def kernel_environment(settings: ServeSettings) -> dict[str, str]:
    """Variables the dashboard kernels need, added to this process's environment before Voilà starts."""
    env = {ENV_ROOT: str(Path(settings.root).resolve()), ENV_LANG: settings.lang,
           ENV_MAX_UPLOAD: str(settings.max_upload_mb)}
    return env


def voila_config(settings: ServeSettings, notebook: Path) -> dict:
    """The traitlets configuration of the Voilà server (a plain dict, as in a `voila.json`)."""
    max_message = int(settings.max_upload_mb * 1024 * 1024 * WEBSOCKET_FACTOR)
    return {
        "Voila": {
            "ip": settings.ip,
            "port": settings.port,
            "port_retries": 0,
            "open_browser": False,
            "token": settings.token,
            "root_dir": str(notebook.parent),
            "tornado_settings": {"websocket_max_message_size": max_message},
        },
        # Loopback without a token: only pages opened on this machine (see hostguard: DNS rebinding).
        "HeygemVoila": {"files_root": str(Path(settings.root).resolve()),
                        "local_only": not settings.token and is_loopback(settings.ip),
                        "max_pages": settings.max_pages, "page_grace_s": settings.page_grace_s},
        "VoilaConfiguration": {
            "file_allowlist": FILE_ALLOWLIST,
            "file_denylist": FILE_DENYLIST,
            "show_tracebacks": False,
            "strip_sources": True,
            "template": TEMPLATE_NAME,
            # One kernel waits with the page already built: a visitor does not wait for a kernel to start.
            "preheat_kernel": True,
            "default_pool_size": 1,
        },
        "MappingKernelManager": {
            "cull_idle_timeout": settings.cull_idle_s,
            "cull_interval": max(10, min(60, settings.cull_idle_s // 4)),
            "cull_connected": False,
        },
    }


def file_url(path: Path, root: Path, base_url: str = "/") -> str | None:
    """The `/voila/files/` address of a workspace file, or None when it is not one the server shows."""
    try:
        rel = Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return None
    if not any(re.fullmatch(p, rel, re.IGNORECASE) for p in FILE_ALLOWLIST):
        return None
    from urllib.parse import quote

    return f"{base_url.rstrip('/')}/voila/files/{quote(rel)}"


def _app_class():
    """Voilà with the files handler put behind the same login as the page (stock Voilà leaves it open)."""
    from jupyter_server.base.handlers import AuthenticatedFileHandler
    from traitlets import Bool, Float, Int, Unicode
    from voila.app import Voila
    from voila.static_file_handler import AllowListFileHandler

    class AllowListAuthFileHandler(AuthenticatedFileHandler):
        def initialize(self, allowlist=(), denylist=(), **kwargs):
            self.allowlist, self.denylist = list(allowlist), list(denylist)
            super().initialize(**kwargs)

        def get_absolute_path(self, root, path):  # called first by StaticFileHandler.get
            if "\x00" in path:
                from tornado.web import HTTPError

                raise HTTPError(400, "bad file name")
            if not any(re.fullmatch(p, path, re.IGNORECASE) for p in self.allowlist) or any(
                    re.fullmatch(p, path, re.IGNORECASE) for p in self.denylist):
                from tornado.web import HTTPError

                raise HTTPError(403, "not a file this server shows")
            return super().get_absolute_path(root, path)

        def write_error(self, status_code, **kwargs):  # plain text: the page templates are not loaded here
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
            self.finish(f"{status_code} {self._reason}\n")

    class HeygemVoila(Voila):
        name = "heygem-voila"
        files_root = Unicode("", config=True, help="Folder `/voila/files/` serves from (the workspace).")
        local_only = Bool(False, config=True, help="Answer only requests whose Host (and Origin) is this "
                                                   "machine: localhost, 127.0.0.1 or [::1] with the port.")

        max_pages = Int(20, config=True, help="Live page kernels at once (0: no cap).")
        page_grace_s = Float(60.0, config=True, help="Shut down a page kernel this long after its last "
                                                     "connection closed.")

        def listen(self):  # the tornado application exists by now; nothing has been served yet
            from tornado.ioloop import PeriodicCallback

            from .kernels import KernelReaper

            if self.local_only:
                from .hostguard import guard_application

                guard_application(self.app, lambda: self.port)
            self.reaper = KernelReaper(self.kernel_manager, self.page_grace_s)
            period_ms = 1000 * max(1.0, min(10.0, self.page_grace_s / 4))
            PeriodicCallback(self.reaper.tick, period_ms).start()
            super().listen()

        def init_settings(self):
            settings = super().init_settings()
            from .login import login_handler_class   # the app's own login page, not Jupyter's

            self.identity_provider.login_handler_class = login_handler_class()
            return settings

        def init_handlers(self):
            handlers = []
            from voila.tornado.handler import TornadoVoilaHandler

            from .kernels import capped

            for spec in super().init_handlers():
                if len(spec) > 2 and spec[1] is AllowListFileHandler:
                    spec = (spec[0], AllowListAuthFileHandler, {**spec[2], "path": self.files_root})
                elif len(spec) > 1 and spec[1] is TornadoVoilaHandler:
                    spec = (spec[0], capped(TornadoVoilaHandler, self.max_pages), *spec[2:])
                handlers.append(spec)
            return handlers

    return HeygemVoila


def serve(settings: ServeSettings) -> int:
    """Run the dashboard server until interrupted (blocks). The worker is started by the caller."""
    from traitlets.config import Config

    notebook = prepare_app_dir(settings.root, settings.max_upload_mb)
    os.environ.update(kernel_environment(settings))
    # Voilà looks for page templates in the Jupyter data path: put this workspace's first.
    share = str(notebook.parent / "share")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (share, os.environ.get("JUPYTER_PATH")) if p)
    app_class = _app_class()
    app = app_class.instance(config=Config(voila_config(settings, notebook)))
    app.initialize([str(notebook)])
    log.info("dashboard for %s at %s", settings.root, settings.url)
    app.start()
    return 0
