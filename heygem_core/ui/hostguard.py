"""DNS rebinding guard for the loopback server without a token.

A web page the user visits can point a name it controls at 127.0.0.1 and then talk to this server as if it
were its own site: the browser sends ``Host: attacker.example:7860``. Without a token nothing else stops it
(Voilà turns Jupyter's own host check off), so on a loopback bind with no token every request — the page,
`/voila/files/`, the kernel websockets, static files — must name this machine in ``Host`` (``localhost``,
``127.0.0.1`` or ``[::1]``, with the server's port), and a request that carries an ``Origin`` must come from
one of those too. The check sits in front of the router, so no handler can be missed.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")


def allowed_hosts(port: int) -> frozenset[str]:
    """``Host`` values this machine's browsers send for the server on ``port``."""
    return frozenset(f"{name}:{port}" for name in LOCAL_NAMES)


def refusal(headers, port: int) -> str | None:
    """Why a request with these headers is refused (None: let it through)."""
    hosts = allowed_hosts(port)
    host = (headers.get("Host") or "").strip().lower()
    if host not in hosts:
        return f"Host {host or '(none)'!r} is not this machine"
    origin = headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin.strip().lower())
        if parts.scheme not in ("http", "https") or parts.netloc not in hosts:
            return f"Origin {origin!r} is not this machine"
    return None


def guard_application(app, port_of) -> None:
    """Refuse (403, plain text) every request to the tornado ``app`` that `refusal` objects to.

    ``port_of()`` gives the server's port when a request arrives.
    """
    from tornado.web import RequestHandler

    class Refused(RequestHandler):
        def initialize(self, reason: str) -> None:
            self.reason = reason

        def prepare(self) -> None:
            log.warning("refused %s %s: %s", self.request.method, self.request.uri, self.reason)
            self.set_status(403)
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
            self.finish("403 Forbidden: this server only answers pages opened on this machine "
                        "(http://127.0.0.1 or http://localhost)\n")

    find = app.find_handler

    def find_handler(request, **kwargs):
        reason = refusal(request.headers, port_of())
        if reason is not None:
            return app.get_handler_delegate(request, Refused, {"reason": reason})
        return find(request, **kwargs)

    app.find_handler = find_handler
