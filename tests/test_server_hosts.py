"""DNS rebinding: the loopback server without a token answers only requests naming this machine in Host (and
Origin). Raw HTTP requests against a real `heygem serve` on 127.0.0.1."""
from __future__ import annotations

import base64
import http.client
import os
import uuid
from pathlib import Path

import numpy as np
import pytest

from browser import ServerProcess
from heygem_core.ui.hostguard import refusal
from heygem_core.ui.server import ServeSettings, voila_config
from mediagen import write_video


def request(port: int, path: str, host: str | None, headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def websocket_headers(origin: str | None) -> dict:
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}
    if origin:
        headers["Origin"] = origin
    return headers


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("hosts") / "ws"
    (root / "outputs").mkdir(parents=True)
    frames = [np.full((48, 64, 3), 40 + 10 * i, np.uint8) for i in range(5)]
    write_video(root / "outputs" / "clip.mp4", frames)
    with ServerProcess(root, args=["--lang", "en"]) as srv:
        assert srv.token is None
        yield srv


def test_forged_host_is_refused_on_page_files_and_websocket(server):
    port = server.port
    evil = f"attacker.example:{port}"
    status, body = request(port, "/", evil)
    assert status == 403 and b"only answers pages opened on this machine" in body
    assert request(port, "/voila/files/outputs/clip.mp4", evil,
                   {"Referer": f"http://{evil}/"})[0] == 403
    kernel = f"/api/kernels/{uuid.uuid4()}/channels"
    assert request(port, kernel, evil, websocket_headers(f"http://{evil}"))[0] == 403
    assert request(port, "/voila/static/voila.js", evil)[0] == 403
    assert request(port, "/", None)[0] in (400, 403)                       # no Host at all
    assert request(port, "/", "127.0.0.1")[0] == 403                       # the port belongs to it
    assert "refused GET /: Host 'attacker.example" in server.log_tail(20000)


def test_this_machine_gets_through_and_a_foreign_origin_does_not(server):
    port = server.port
    clip = (server.root / "outputs" / "clip.mp4").read_bytes()
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        status, body = request(port, "/voila/files/outputs/clip.mp4", host, {"Referer": f"http://{host}/"})
        assert status == 200 and body == clip, host
    kernel = f"/api/kernels/{uuid.uuid4()}/channels"
    local = f"127.0.0.1:{port}"
    assert request(port, kernel, local, websocket_headers(f"http://attacker.example:{port}"))[0] == 403
    assert request(port, kernel, local, websocket_headers("null"))[0] == 403
    assert request(port, kernel, local, websocket_headers(f"http://{local}"))[0] in (101, 404)
    status, body = request(port, "/", local)
    assert status == 200 and b"<html" in body.lower()


def test_nul_byte_in_a_files_url_is_a_client_error(server):
    host = f"127.0.0.1:{server.port}"
    status, _ = request(server.port, "/voila/files/outputs/clip%00.mp4", host, {"Referer": f"http://{host}/"})
    assert 400 <= status < 500


def test_token_mode_and_other_addresses_keep_no_host_check(tmp_path):
    notebook = Path(tmp_path / "nb.ipynb")
    local = voila_config(ServeSettings(root=tmp_path), notebook)["HeygemVoila"]
    token = voila_config(ServeSettings(root=tmp_path, token="s3cret"), notebook)["HeygemVoila"]
    wide = voila_config(ServeSettings(root=tmp_path, ip="0.0.0.0", token="t"), notebook)["HeygemVoila"]
    assert local["local_only"] is True and token["local_only"] is False and wide["local_only"] is False
    assert refusal({"Host": "localhost:7860", "Origin": "http://localhost:7860"}, 7860) is None
    assert refusal({"Host": "LOCALHOST:7860"}, 7860) is None
    assert "Origin" in refusal({"Host": "localhost:7860", "Origin": "http://evil:7860"}, 7860)
    assert "Host" in refusal({"Host": "localhost.evil:7860"}, 7860)
