"""`heygem batch PARAMS.yaml [--out-dir D]`: a batch run through the papermill notebook.

One papermill subprocess runs ``notebooks/batch.ipynb`` with the parameter file; the executed notebook is
saved beside the outputs as the run's report (``<out_dir>/batch_report.ipynb``, with its data in
``batch_report.json``). Exit code 0: every video done; 1: some failed (the others still ran; the report says
which); 2: the batch could not run (bad parameters, speech track or kernel).
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from ..errors import HeygemError

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_KERNEL = "heygem"


def register(sub) -> None:
    p = sub.add_parser("batch", help="run a batch from a parameter file; the executed notebook is the report",
                       description="Run notebooks/batch.ipynb with papermill on PARAMS.yaml (audio, videos, "
                                   "params, out_dir, engine, checkpoint; see params/example_batch.yaml). "
                                   "The executed notebook is saved as OUT_DIR/batch_report.ipynb. "
                                   "Exit code 1 when some videos failed, 2 when the batch could not run.")
    p.add_argument("params_file", metavar="PARAMS.yaml", help="batch parameter file")
    p.add_argument("--out-dir", default=None, help="where the videos and the report go (overrides the file)")
    p.add_argument("--kernel", default=DEFAULT_KERNEL,
                   help=f"Jupyter kernel to run the notebook in (default: {DEFAULT_KERNEL}, registered by the "
                        "set-up)")
    p.add_argument("--notebook", default=None, help="the batch notebook (default: notebooks/batch.ipynb)")
    p.add_argument("--quiet", action="store_true", help="do not show the notebook's progress lines")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..batch import DEFAULT_OUT_DIR, REPORT_NAME, load_batch_params

    params_file = Path(args.params_file)
    data = load_batch_params(params_file)
    out_dir = Path(args.out_dir or data.get("out_dir") or DEFAULT_OUT_DIR).expanduser().resolve()
    notebook = find_notebook(args.notebook)
    check_kernel(args.kernel)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / f"{REPORT_NAME}.ipynb"
    summary_path = out_dir / f"{REPORT_NAME}.json"
    summary_path.unlink(missing_ok=True)   # so that a summary read afterwards is this run's

    cmd = [sys.executable, "-m", "papermill", str(notebook), str(report), "-f", str(params_file),
           "-r", "out_dir", str(out_dir), "-k", args.kernel, "--cwd", os.getcwd(),
           "--no-progress-bar", "--log-level", "WARNING"]
    if not args.quiet:   # the notebook's own output (one line per stage) goes to our stdout as it comes
        cmd += ["--stdout-file", "-", "--stderr-file", "-"]
    log.debug("running %s", " ".join(cmd))
    sys.stdout.flush()
    proc = subprocess.run(cmd, env=kernel_env(), stdout=subprocess.DEVNULL if args.quiet else None,
                          stderr=subprocess.PIPE, text=True, errors="replace")
    if getattr(args, "debug", False) and proc.stderr:
        print(proc.stderr, file=sys.stderr, end="")

    summary = _read_json(summary_path)
    if summary is not None:
        done, failed = summary["done"], summary["failed"]
        print(f"{done} of {done + failed} videos done; report: {report}")
        for item in summary["items"]:
            if item["status"] != "done":
                error = item["error"] if item["error"].startswith(item["video"]) else \
                    f"{item['video']}: {item['error']}"
                print(f"heygem: error: {error}", file=sys.stderr)
        if proc.returncode == 0 and not failed:
            return 0
        if failed:
            return 1
    if proc.returncode == 0:   # finished without writing a summary: not this project's batch notebook
        raise HeygemError(f"{notebook}: the notebook ran but wrote no batch report ({summary_path})")
    raise HeygemError(f"the batch did not run: {notebook_error(report) or _tail(proc.stderr)}"
                      + (f" (see {report})" if report.exists() else ""))


def find_notebook(path: str | Path | None) -> Path:
    notebook = Path(path) if path else PROJECT_ROOT / "notebooks" / "batch.ipynb"
    if not notebook.is_file():
        raise HeygemError(f"{notebook}: the batch notebook is not there"
                          + ("" if path else "; pass --notebook PATH"))
    return notebook


def check_kernel(name: str) -> None:
    """Fail with the command that registers it when the Jupyter kernel ``name`` is not installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise HeygemError(f"no Jupyter kernel named {name!r}; register it with `{sys.executable} -m ipykernel "
                          f"install --prefix {sys.prefix} --name {name}` (the set-up, `make install`, does)"
                          ) from None


def kernel_env() -> dict[str, str]:
    """This environment, with this project first on PYTHONPATH, so the kernel imports the same package."""
    env = dict(os.environ)
    paths = [str(PROJECT_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def notebook_error(path: Path) -> str | None:
    """``"<ename>: <evalue>"`` of the first error output in an executed notebook, or None."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            if out.get("output_type") == "error":
                ename, evalue = out.get("ename", "Error"), out.get("evalue", "")
                if ename in _USER_ERRORS:   # their text already names the file and the reason
                    return evalue
                return f"{ename}: {evalue}"
    return None


_USER_ERRORS = {"InputError", "NoFaceError", "CheckpointError", "OptionsError", "HeygemError", "Cancelled"}


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _tail(text: str | None, lines: int = 5) -> str:
    kept = [line for line in (text or "").strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "papermill failed without a message"
