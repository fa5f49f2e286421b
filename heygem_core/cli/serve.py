"""`heygem serve`: the browser app (Voilà dashboard) over one workspace, plus its worker.

    heygem serve --root-path ws                      # http://127.0.0.1:7860/
    heygem serve --root-path ws --ip 0.0.0.0         # reachable from the network: a token is required
"""
from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

log = logging.getLogger(__name__)


def register(sub) -> None:
    from ..ui.i18n import LANGS
    from ..ui.server import DEFAULT_MAX_UPLOAD_MB

    p = sub.add_parser("serve", help="run the browser app for a workspace",
                       description="Start the workspace's worker (unless one runs) and the dashboard at "
                                   "http://IP:PORT/. Any address other than this machine's own (127.x, ::1) "
                                   "needs a token; one is generated and printed with the URL when not given.")
    p.add_argument("--root-path", default="workspace", metavar="DIR", help="workspace folder (default ./workspace)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--token", default=None, help="login token; required for non-local addresses (default: "
                                                 "generated for those, none for 127.0.0.1)")
    p.add_argument("--lang", choices=LANGS, default="zh", help="page language at start (default zh)")
    p.add_argument("--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_MB, metavar="MB",
                   help=f"largest file a browser may upload, in MiB (default {DEFAULT_MAX_UPLOAD_MB})")
    p.add_argument("--cull-idle", type=int, default=900, metavar="S",
                   help="stop a page's kernel after S seconds without activity (default 900)")
    p.add_argument("--max-pages", type=int, default=20, metavar="N",
                   help="pages open at once (each runs a kernel); beyond, a 'too many open pages' page (default 20)")
    p.add_argument("--page-grace", type=float, default=60.0, metavar="S",
                   help="shut a page's kernel down S seconds after its tab closed (default 60)")
    p.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="the worker runs the items on the Dask cluster at ADDRESS (tcp://host:8786), or on "
                        "local:N worker processes; it then stays up while the app runs")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import InputError
    from ..jobs import Workspace, ensure_worker
    from ..ui.server import ServeSettings, resolve_token, serve

    if args.max_upload_mb <= 0:
        raise InputError("--max-upload-mb", "must be more than 0")
    ws = Workspace(Path(args.root_path).expanduser())
    settings = ServeSettings(root=ws.root, port=args.port, ip=args.ip, token=resolve_token(args.ip, args.token),
                             lang=args.lang, max_upload_mb=args.max_upload_mb, cull_idle_s=args.cull_idle,
                             max_pages=args.max_pages, page_grace_s=args.page_grace)
    # A cluster worker stays for the app's lifetime: one that left when idle would be replaced by the next
    # page's submit with a plain local worker.
    worker = ensure_worker(ws.root, dask=args.dask, idle_exit=None) if args.dask else ensure_worker(ws.root)
    # Voilà's own log lines go to stderr; stdout says the address to open (every address of this machine
    # for a wildcard bind: colleagues' machines may not resolve its host name).
    from ..ui.lan import page_urls

    urls = page_urls(settings.ip, settings.port, settings.token)
    print(f"HeyGem Workbench: {urls[0]}", flush=True)
    for url in urls[1:]:
        print(f"  also: {url}", flush=True)
    if settings.token and not args.token:
        print("  (a login token was generated for this address: keep the whole URL)", flush=True)
    try:
        return serve(settings)
    finally:
        if worker:
            _stop_worker(worker)


def _stop_worker(pid: int) -> None:
    """Stop the worker this command started (a running item is marked to run again next time)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
