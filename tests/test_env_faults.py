"""Faults of the environment through the real CLI (its own process, stderr a file, never a terminal): one line
naming the path and the reason, exit 2 for the user's paths and 1 for the machine's faults, nothing
half-written. A read-only folder and a full disk are real: a read-only bind mount and a tiny tmpfs, made in a
private mount namespace (`unshare -m`) so no one else on the machine sees them."""
from __future__ import annotations

import os
import shutil
import re
import signal
import subprocess
import sys
import time

import pytest

from jobs_media import REPO, face_clip, speech_snippet, wait_for


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("env_media")
    return {"speech": speech_snippet(d / "speech.wav", seconds=1.2),
            "long": speech_snippet(d / "long.wav", start=0.2, seconds=6.5),
            "face": face_clip(d / "face.mp4", seconds=1.0)}


def _env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])))


def heygem(*args, cwd, setup: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`heygem ARGS` in its own process; ``setup`` is a shell line run first in a private mount namespace."""
    cmd = [sys.executable, "-m", "heygem_core.cli", *args]
    if setup:
        cmd = ["unshare", "-m", "sh", "-c", f'{setup} && exec "$@"', "sh", *cmd]
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def can_mount(tmp_path_factory):
    target = tmp_path_factory.mktemp("mount_probe")
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {target}"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace here (needs root): " + probe.stderr.decode()[-200:])


def one_error_line(proc) -> str:
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("heygem: error: "), proc.stderr
    return lines[0]


def generate_cli(media, out_dir, cwd, **kw):
    return heygem("generate", "--audio", str(media["speech"]), "--video", str(media["face"]), "--out-dir",
                  str(out_dir), "--preset", "ultrafast", cwd=cwd, **kw)


def test_read_only_output_folder(tmp_path, media, can_mount):
    out = tmp_path / "ro"
    out.mkdir()
    proc = generate_cli(media, out, tmp_path, setup=f"mount --bind {out} {out} && mount -o remount,bind,ro {out}")
    assert proc.returncode == 2
    assert one_error_line(proc) == f"heygem: error: {out}: cannot write the output here (read-only file system)"
    assert list(out.iterdir()) == []


def test_full_disk_leaves_nothing_on_it(tmp_path, media, can_mount):
    """One line naming the output, exit 1 (a fault of the machine), and, looking inside the full file system
    before it goes away, no hidden part file left on it."""
    out = tmp_path / "full"
    out.mkdir()
    cmd = [sys.executable, "-m", "heygem_core.cli", "generate", "--audio", str(media["speech"]), "--video",
           str(media["face"]), "--out-dir", str(out), "--preset", "ultrafast"]
    script = f'mount -t tmpfs -o size=48k tmpfs {out} && "$@"; echo "rc=$?" >&2; find {out} -type f >&2'
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *cmd], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=600)
    lines = proc.stderr.splitlines()
    assert "rc=1" in lines, lines
    rc = lines.index("rc=1")
    assert lines[rc - 1] == f"heygem: error: {out / 'face__speech.mp4'}: no space left on the device"
    assert "Traceback" not in proc.stderr
    assert all(line.startswith("WARNING ") for line in lines[:rc - 1]), lines   # e.g. the face track not cached
    # `find -type f`: no part file; only the speech's timeline may stay, a cache file written whole before the
    # frames (the next run reads it)
    left = lines[rc + 1:]
    assert all(re.fullmatch(rf"{re.escape(str(out))}/\.cache/timeline-[0-9a-f]+\.npz", f) for f in left), left


def test_out_dir_is_a_file(tmp_path, media):
    blocker = tmp_path / "results"
    blocker.write_text("keep me")
    for out in (blocker, blocker / "sub"):
        proc = generate_cli(media, out, tmp_path)
        assert proc.returncode == 2
        assert one_error_line(proc) == f"heygem: error: {blocker}: is a file, not a folder: the output " \
                                       f"cannot go inside it"
    assert blocker.read_text() == "keep me"


def test_a_folder_where_the_output_goes(tmp_path, media):
    """The CLI picks the next free name (it never takes a name that exists); the pipeline itself refuses."""
    from heygem_core.errors import InputError
    from heygem_core.pipeline import generate

    out = tmp_path / "out"
    (out / "face__speech.mp4").mkdir(parents=True)
    (out / "face__speech.mp4" / "mine.txt").write_text("x")
    proc = generate_cli(media, out, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["face__speech-2.mp4",
                                                                                  "face__speech.mp4"]
    assert (out / "face__speech.mp4" / "mine.txt").read_text() == "x"
    with pytest.raises(InputError, match="is a folder; the output file cannot take its place"):
        generate(media["speech"], media["face"], out / "face__speech.mp4")
    assert sorted(p.name for p in (out / "face__speech.mp4").iterdir()) == ["mine.txt"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_clean_up_like_ctrl_c(tmp_path, media, sig):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "heygem_core.cli", "generate", "--audio", str(media["long"]), "--video",
           str(media["face"]), "--out-dir", str(out), "--preset", "ultrafast"]
    with open(tmp_path / "stderr.txt", "w") as err:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=err)
        try:
            wait_for(lambda: out.is_dir() and any(p.name.endswith(".part.mp4") for p in out.iterdir()), 180,
                     step=0.02, what="the partial output")
            time.sleep(0.3)
            proc.send_signal(sig)
            assert proc.wait(timeout=30) == 128 + sig
        finally:
            if proc.poll() is None:
                proc.kill()
    # nothing but the cache: the speech's timeline, written whole before the first frame (the next run reads it)
    assert [p.name for p in out.iterdir()] in ([], [".cache"])
    assert all(p.name.startswith("timeline-") and p.suffix == ".npz" for p in out.glob(".cache/*"))
    assert (tmp_path / "stderr.txt").read_text().splitlines() == [f"heygem: interrupted ({sig.name})"]
