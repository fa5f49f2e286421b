"""`heygem batch PARAMS.yaml [--out-dir D]`: a batch run through the papermill notebook.

The batch notebook (a package resource) runs in-process through ``papermill.execute_notebook`` with the
parameter file's values; the executed notebook is saved beside the outputs as the run's report
(``<out_dir>/batch_report.ipynb``, with its data in ``batch_report.json``). Relative paths in the file are
relative to the file's own folder, so a batch file works from wherever it is run. Exit code 0: every video
done; 1: some failed (the others still ran; the report says which); 2: the batch could not run (bad
parameters, speech track or engine).
"""
from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

from .. import errors
from ..errors import HeygemError

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("batch", help="run a batch from a parameter file; the executed notebook is the report",
                       description="Run the batch notebook on PARAMS.yaml (audio, videos, text, params, out_dir, "
                                   "engine, checkpoint; see params/example_batch.yaml). The executed notebook "
                                   "is saved as OUT_DIR/batch_report.ipynb. Exit code 1 when some videos "
                                   "failed, 2 when the batch could not run.")
    p.add_argument("params_file", metavar="PARAMS.yaml", help="batch parameter file")
    p.add_argument("--out-dir", default=None, help="where the videos and the report go (overrides the file)")
    p.add_argument("--kernel", default=None,
                   help="Jupyter kernel to run the notebook in (default: this Python, whatever is registered)")
    p.add_argument("--notebook", default=None, help="another batch notebook (default: the packaged one)")
    p.add_argument("--quiet", action="store_true", help="do not show the notebook's progress lines")
    p.set_defaults(func=run)


def run(args) -> int:
    import papermill as pm

    from ..batch import DEFAULT_OUT_DIR, REPORT_NAME, load_batch_params
    from ..resources import notebook, shipped_params_dir

    params_file = Path(args.params_file)
    data = load_batch_params(params_file)
    here = params_file.resolve().parent
    if here == shipped_params_dir().resolve():   # the shipped example: results go where the command runs
        here = Path.cwd()
    if args.out_dir:
        out_dir = Path(args.out_dir).expanduser().resolve()
    else:
        out_dir = here / Path(data.get("out_dir") or DEFAULT_OUT_DIR).expanduser()
    data["out_dir"] = str(out_dir)
    source = Path(args.notebook) if args.notebook else notebook("batch.ipynb")
    if not source.is_file():
        raise HeygemError(f"{source}: no such notebook")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / f"{REPORT_NAME}.ipynb"
    summary_path = out_dir / f"{REPORT_NAME}.json"
    summary_path.unlink(missing_ok=True)   # so that a summary read afterwards is this run's

    failure = None
    with this_python_kernel(args.kernel) as kernel:
        try:
            pm.execute_notebook(str(source), str(report), parameters=data, kernel_name=kernel,
                                cwd=str(here), progress_bar=False,
                                log_output=not args.quiet, stdout_file=None if args.quiet else sys.stdout,
                                stderr_file=None if args.quiet else sys.stderr)
        except pm.PapermillExecutionError as exc:
            failure = exc

    summary = _read_json(summary_path)
    if summary is not None:
        done, failed = summary["done"], summary["failed"]
        print(f"{done} of {done + failed} videos done; report: {report}")
        for item in summary["items"]:
            if item["status"] != "done":
                error = item["error"] if item["error"].startswith(item["video"]) else \
                    f"{item['video']}: {item['error']}"
                print(f"heygem: error: {error}", file=sys.stderr)
        if failed:
            return 1
        if failure is None:
            return 0
    if failure is None:   # finished without writing a summary: not this project's batch notebook
        raise HeygemError(f"{source}: the notebook ran but wrote no batch report ({summary_path})")
    raise HeygemError(f"the batch did not run: {describe(failure)} (see {report})")


def describe(failure) -> str:
    """The failed cell's error: the product's own errors (`HeygemError` and its kind) already name the file
    and the reason; anything else is shown with its class."""
    cls = getattr(errors, failure.ename, None)
    if isinstance(cls, type) and issubclass(cls, HeygemError):
        return failure.evalue
    return f"{failure.ename}: {failure.evalue}"


class this_python_kernel:
    """The kernel ``name`` if given, else a kernel spec for this very interpreter, made for the run in a
    temporary Jupyter data folder: the notebook imports the same installed package, with nothing registered."""

    NAME = "heygem-batch-run"

    def __init__(self, name: str | None):
        self.name = name
        self._tmp = None
        self._saved = None

    def __enter__(self) -> str:
        import os

        if self.name:
            check_kernel(self.name)
            return self.name
        self._tmp = tempfile.TemporaryDirectory(prefix="heygem-kernel-")
        spec = Path(self._tmp.name) / "kernels" / self.NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "HeyGem batch", "language": "python"}), encoding="utf-8")
        self._saved = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (self._tmp.name, self._saved) if p)
        return self.NAME

    def __exit__(self, *exc) -> None:
        import os

        if self._tmp is None:
            return
        if self._saved is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = self._saved
        self._tmp.cleanup()


def check_kernel(name: str) -> None:
    """Fail with the command that registers it when the Jupyter kernel ``name`` is not installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise HeygemError(f"no Jupyter kernel named {name!r}; leave out --kernel to run in this Python, or "
                          f"register it with `{sys.executable} -m ipykernel install --prefix {sys.prefix} "
                          f"--name {name}`") from None


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
