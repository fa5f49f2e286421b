"""Page kernels are bounded and freed: 50 page loads against a real `heygem serve` on 127.0.0.1 never run more
than the cap (plus the warm one), loads beyond it get "too many open pages", and kernels whose page never
connected (or closed) are shut down after the grace period."""
from __future__ import annotations

import http.client
import os
import time
from pathlib import Path

from browser import ServerProcess

CAP, GRACE = 3, 8.0


def kernel_pids(server_pid: int) -> list[int]:
    """Kernel processes started by the server (its children running ipykernel)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == server_pid and fields[0] != "Z" and b"ipykernel" in cmdline:
            found.append(int(entry))
    return found


def load_page(port: int) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", "/", headers={"Host": f"127.0.0.1:{port}"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def test_fifty_page_loads_stay_bounded_and_are_freed(tmp_path):
    with ServerProcess(tmp_path / "ws", args=["--max-pages", str(CAP), "--page-grace", str(GRACE)],
                       timeout=120) as srv:
        pid = srv.proc.pid
        statuses, most = [], 0
        for _ in range(50):
            status, body = load_page(srv.port)
            statuses.append(status)
            if status == 503:
                assert "Too many open pages" in body and f"allows {CAP} at once" in body
            else:
                assert status == 200 and "heygem" in body.lower()
            most = max(most, len(kernel_pids(pid)))
            assert most <= CAP + 2, most          # the cap, the warm kernel and one being started for it
        assert statuses.count(200) >= CAP and statuses.count(503) >= 1
        deadline = time.monotonic() + GRACE + 60
        while len(kernel_pids(pid)) > 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(kernel_pids(pid)) <= 1         # only the warm kernel for the next visitor is left
        assert load_page(srv.port)[0] == 200      # and the next visitor gets the page again
