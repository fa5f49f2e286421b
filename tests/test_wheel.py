"""The installed wheel is the whole product: built from this tree, installed into a new virtual environment
and run from an unrelated folder — demo, a batch file written elsewhere, the server and the tuning notebook.

Only the project's own wheel is installed into the new environment; its (large, pinned) dependencies come
from this environment's site-packages through a path file (their data files through JUPYTER_PATH), so the test checks what the wheel itself carries
(code, notebooks, dashboard page, parameter sets), not the package index."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH", "VIRTUAL_ENV")}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)],
                   check=True, capture_output=True, cwd=tmp, env=clean)
    wheel = next((tmp / "dist").glob("heygem_workbench-*.whl"))
    env_dir = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "heygem_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # --ignore-installed: the dependencies' folder holds this project's own editable install
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", str(wheel)],
                   check=True, capture_output=True, cwd=tmp, env=clean)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    env = dict(clean)
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # the dependencies' data files (Voilà's page templates, JupyterLab's assets) live with them
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    return {"bin": env_dir / "bin", "py": py, "cwd": elsewhere, "env": env, "wheel": wheel}


def run(venv, *args, timeout=600):
    return subprocess.run([str(a) for a in args], cwd=venv["cwd"], env=venv["env"], capture_output=True,
                          text=True, timeout=timeout)


def test_the_wheel_carries_the_notebooks_the_page_and_the_parameter_sets(venv):
    import zipfile

    names = zipfile.ZipFile(venv["wheel"]).namelist()
    for needed in ("heygem_core/notebooks/tune.ipynb", "heygem_core/notebooks/batch.ipynb",
                   "heygem_core/dashboards/heygem.ipynb", "heygem_core/params/default.yaml",
                   "heygem_core/params/example_batch.yaml", "heygem_core/assets/demo_speech.wav",
                   "heygem_core/ui/upload_guard.js"):
        assert needed in names
    found = run(venv, venv["py"], "-c", "import heygem_core; print(heygem_core.__file__)")
    assert found.returncode == 0 and found.stdout.strip().startswith(str(venv["bin"].parent))


def test_demo_and_a_batch_file_written_anywhere(venv, tmp_path):
    demo = run(venv, venv["bin"] / "heygem", "demo", "--out-dir", "demo")
    assert demo.returncode == 0, demo.stderr
    assert sorted(p.name for p in (venv["cwd"] / "demo").glob("*.mp4")) == \
        ["presenter_clip__demo_speech.mp4", "presenter_photo__demo_speech.mp4"]

    job = tmp_path / "job"
    job.mkdir()
    (job / "b.yaml").write_text("audio: builtin:speech\nvideos: [builtin:photo]\nparams: news\nout_dir: out\n")
    batch = run(venv, venv["bin"] / "heygem", "batch", job / "b.yaml", "--quiet")
    assert batch.returncode == 0, batch.stderr
    assert "1 of 1 videos done" in batch.stdout
    assert (job / "out" / "presenter_photo__demo_speech.mp4").is_file()   # beside the batch file
    from heygem_core.options import LipSyncOptions
    from heygem_core.resources import shipped_params_dir

    report = json.loads((job / "out" / "batch_report.json").read_text())
    news = LipSyncOptions.from_yaml(shipped_params_dir() / "news.yaml")
    assert report["options"] == news.to_dict() != LipSyncOptions().to_dict()   # the 'news' set was found


def test_serve_answers_and_the_tuning_notebook_runs(venv):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = venv["cwd"] / "serve.err"
    with open(log, "wb") as err:
        proc = subprocess.Popen([str(venv["bin"] / "heygem"), "serve", "--root-path", "ws", "--port", str(port)],
                                cwd=venv["cwd"], env=venv["env"], stdout=subprocess.PIPE, stderr=err, text=True,
                                start_new_session=True)
    try:
        assert "HeyGem Workbench: http://127.0.0.1" in proc.stdout.readline()
        deadline, page = time.monotonic() + 120, None
        while time.monotonic() < deadline and page is None:
            try:   # the page is rendered by a kernel: it can take a while on a busy machine
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60).read().decode()
            except OSError:
                time.sleep(0.5)
        assert page is not None, log.read_text()[-2000:]
        assert "<title>HeyGem Workbench</title>" in page
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)

    copied = run(venv, venv["bin"] / "heygem", "notebooks", "--to", "nb")
    assert copied.returncode == 0 and (venv["cwd"] / "nb" / "tune.ipynb").is_file()
    executed = run(venv, venv["py"], "-m", "papermill", "nb/tune.ipynb", "nb/tune.out.ipynb", "-k", "python3",
                   "-p", "video", "builtin:photo", "-p", "preview_seconds", "1.0", "--no-progress-bar")
    assert executed.returncode == 0, executed.stderr[-2000:]
    nb = json.loads((venv["cwd"] / "nb" / "tune.out.ipynb").read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors
