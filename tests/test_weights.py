"""The weights store and `heygem weights`: copy, download (resume, truncation, hash), list, verify."""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from heygem_core.cli import weights as weights_cli
from heygem_core.errors import CheckpointError, InputError
from heygem_core.engines.wav2lip.weights import WeightsStore, default_weights_dir, download, resolve_checkpoint

PAYLOAD = bytes(range(256)) * 1200   # 300 KiB: several reads of the downloader's chunks
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class _Server:
    """A local HTTP server for one file, with switches for the failures a real download meets."""

    def __init__(self):
        self.payload = PAYLOAD
        self.cut_after: list[int] = []   # per request, in order: close the connection after this many bytes
        self.ranges = True               # honour Range requests
        self.requests: list[str | None] = []   # the Range header of each request
        self.sent = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path != "/files/wav2lip_gan.pth":
                    self.send_error(404, "Not Found")
                    return
                header = self.headers.get("Range")
                server.requests.append(header)
                data, start = server.payload, 0
                m = re.fullmatch(r"bytes=(\d+)-", header or "")
                if m and server.ranges:
                    start = int(m.group(1))
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                cut = server.cut_after.pop(0) if server.cut_after else None
                body = body if cut is None else body[:cut]
                server.sent += len(body)   # counted before sending: the client may finish first
                self.wfile.write(body)
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/files/wav2lip_gan.pth"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


@pytest.fixture
def store(tmp_path):
    return WeightsStore(tmp_path / "weights")


def _files(store) -> list[str]:
    return sorted(p.name for p in store.root.iterdir()) if store.root.exists() else []


# -- downloads

def test_download_with_progress(server, tmp_path):
    seen = []
    digest = download(server.url, tmp_path / "f.part", sha256=DIGEST, on_progress=lambda d, t: seen.append((d, t)))
    assert digest == DIGEST and (tmp_path / "f.part").read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD)) and len(seen) > 1
    assert server.requests == [None]


def test_transfer_cut_short_is_resumed(server, tmp_path):
    server.cut_after = [100_000, 50_000]       # two dropped connections, then a full answer
    digest = download(server.url, tmp_path / "f.part", sha256=DIGEST)
    assert digest == DIGEST
    assert server.requests == [None, "bytes=100000-", "bytes=150000-"]
    assert server.sent == len(PAYLOAD)          # no byte fetched twice


def test_transfer_always_cut_short_fails_cleanly(server, store):
    server.cut_after = [10_000] * 10
    with pytest.raises(InputError, match="ended early") as info:
        store.add(server.url, sha256=DIGEST, validate=False)
    assert info.value.path == server.url
    assert store.list() == []
    assert _files(store) == ["wav2lip_gan.pth.part"]   # kept for the next attempt, never registered
    server.cut_after = []
    entry = store.add(server.url, sha256=DIGEST, validate=False)   # the next add resumes it
    assert entry.sha256 == DIGEST
    assert server.requests[-1] == f"bytes={4 * 10_000}-"
    assert _files(store) == ["wav2lip_gan.json", "wav2lip_gan.pth"]


def test_resume_after_an_interrupted_part_file(server, store):
    store.root.mkdir(parents=True)
    (store.root / "wav2lip_gan.pth.part").write_bytes(PAYLOAD[:123_456])
    entry = store.add(server.url, validate=False)
    assert server.requests == ["bytes=123456-"]
    assert server.sent == len(PAYLOAD) - 123_456
    assert entry.path.read_bytes() == PAYLOAD


def test_server_without_ranges_restarts_from_zero(server, tmp_path):
    server.ranges = False
    part = tmp_path / "f.part"
    part.write_bytes(b"stale bytes from another file")
    assert download(server.url, part) == DIGEST
    assert part.read_bytes() == PAYLOAD


def test_complete_part_file_is_not_fetched_again(server, tmp_path):
    part = tmp_path / "f.part"
    part.write_bytes(PAYLOAD)
    assert download(server.url, part, sha256=DIGEST) == DIGEST
    assert server.sent == 0


def test_wrong_sha256_registers_nothing(server, store):
    with pytest.raises(CheckpointError, match="sha256 mismatch"):
        store.add(server.url, sha256="0" * 64, validate=False)
    assert _files(store) == []


def test_http_errors_are_clear(server, store):
    with pytest.raises(InputError, match="HTTP 404"):
        store.add(server.url.replace("wav2lip_gan", "missing"), validate=False)
    with pytest.raises(InputError, match="64 hexadecimal"):
        store.add(server.url, sha256="abc", validate=False)
    assert _files(store) == []


# -- the store

def test_add_list_verify(store, tmp_path):
    source = tmp_path / "my_model.pth"
    source.write_bytes(PAYLOAD)
    entry = store.add(source, sha256=DIGEST.upper(), validate=False)
    assert (entry.name, entry.sha256, entry.size, entry.source) == ("my_model", DIGEST, len(PAYLOAD), str(source))
    sidecar = json.loads((store.root / "my_model.json").read_text())
    assert set(sidecar) >= {"name", "sha256", "size", "source", "added"}
    assert [e.name for e in store.list()] == ["my_model"]
    assert store.add(source, validate=False) == entry            # the same file again: nothing to do
    assert all(r.ok for r in store.verify())

    entry.path.write_bytes(PAYLOAD[:-1] + b"\x00")              # silent corruption on disk
    (result,) = store.verify()
    assert not result.ok and "sha256 is" in result.problem
    entry.path.unlink()
    (result,) = store.verify()
    assert not result.ok and "missing" in result.problem
    with pytest.raises(InputError, match="no weights named"):
        store.verify(["other"])


def test_name_clash_needs_force(store, tmp_path):
    a, b = tmp_path / "a.pth", tmp_path / "b.pth"
    a.write_bytes(b"first")
    b.write_bytes(b"second")
    store.add(a, name="model", validate=False)
    with pytest.raises(InputError, match="already exist"):
        store.add(b, name="model", validate=False)
    assert store.add(b, name="model", validate=False, force=True).size == len(b"second")
    with pytest.raises(InputError, match="invalid weights name"):
        store.add(a, name="../escape", validate=False)
    store.remove("model")
    assert _files(store) == []


def test_only_wav2lip_checkpoints_are_registered(store, tmp_path):
    bogus = tmp_path / "wav2lip.pth"
    bogus.write_bytes(b"<html>this is a download page, not a checkpoint</html>")
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint") as info:
        store.add(bogus)
    assert info.value.path == str(bogus)
    assert _files(store) == []


def test_real_layout_registers_and_resolves_by_name(store, wav2lip_checkpoint):
    entry = store.add(wav2lip_checkpoint, name="wav2lip_gan")
    assert resolve_checkpoint("wav2lip_gan", store.root) == (entry.path, False)
    assert resolve_checkpoint(str(wav2lip_checkpoint), store.root) == (wav2lip_checkpoint, False)
    entry.path.unlink()
    with pytest.raises(CheckpointError, match="file is missing"):
        resolve_checkpoint("wav2lip_gan", store.root)


def test_weights_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HEYGEM_WEIGHTS", str(tmp_path / "w"))
    assert default_weights_dir() == tmp_path / "w"
    monkeypatch.delenv("HEYGEM_WEIGHTS")
    assert default_weights_dir().parts[-3:] == (".cache", "heygem", "weights")


# -- the command line

def _run(argv) -> int:
    parser = argparse.ArgumentParser(prog="heygem")
    weights_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_add_list_verify(tmp_path, wav2lip_checkpoint, capsys, server):
    wdir = str(tmp_path / "w")
    digest = hashlib.sha256(wav2lip_checkpoint.read_bytes()).hexdigest()
    assert _run(["weights", "add", str(wav2lip_checkpoint), "--sha256", digest, "--name", "wav2lip_gan",
                 "--weights-dir", wdir]) == 0
    assert "--checkpoint wav2lip_gan" in capsys.readouterr().out
    assert _run(["weights", "list", "--weights-dir", wdir]) == 0
    listing = capsys.readouterr().out
    assert "wav2lip_gan" in listing and digest[:12] in listing
    assert _run(["weights", "verify", "--weights-dir", wdir]) == 0
    assert "ok      wav2lip_gan" in capsys.readouterr().out
    (tmp_path / "w" / "wav2lip_gan.pth").write_bytes(b"x")
    assert _run(["weights", "verify", "--weights-dir", wdir]) == 1
    assert "FAILED  wav2lip_gan" in capsys.readouterr().out

    # a download that is not a checkpoint: refused after the transfer, nothing registered
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        _run(["weights", "add", server.url, "--name", "remote", "--weights-dir", wdir])
    assert not (tmp_path / "w" / "remote.json").exists() and not (tmp_path / "w" / "remote.pth").exists()
