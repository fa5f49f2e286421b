"""`heygem submit | worker | jobs | history | cancel | export`: the queue from the command line.

    heygem submit --audio speech.wav --video a.mp4 b.mp4 --root-path ws --wait
    heygem worker --root-path ws
    heygem jobs --root-path ws            heygem history --root-path ws --json
    heygem cancel JOB --root-path ws      heygem export --out results.zip --root-path ws [--job JOB]
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from ..errors import InputError
from ..jobs.records import DONE, FINISHED, RUNNING
from .common import add_option_flags, options_from_args


def register(sub) -> None:
    p = sub.add_parser("submit", help="queue one audio + N videos for the workspace's worker",
                       description="Queue a job and print its id; the worker is started if none runs.")
    p.add_argument("--audio", required=True, metavar="A", help="the speech track")
    p.add_argument("--video", required=True, nargs="+", action="extend", metavar="V",
                   help="one or more face videos or images; may be repeated")
    p.add_argument("--text", metavar="FILE", help="the script of the speech (UTF-8 text), for sharper mouth shapes")
    _root(p)
    p.add_argument("--wait", action="store_true", help="show progress until the job has finished")
    p.add_argument("--no-start", "--no-worker", dest="no_start", action="store_true",
                   help="only queue; do not start a worker (one runs elsewhere, e.g. `heygem worker --dask`)")
    p.add_argument("--copy", action="store_true",
                   help="keep copies of the inputs in the workspace (uploads/), so the job does not depend on "
                        "the originals staying where they are")
    add_option_flags(p)
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("worker", help="run the queue of a workspace (one item at a time)",
                       description="Run queued jobs one item at a time until stopped (Ctrl-C / SIGTERM).")
    _root(p)
    p.add_argument("--idle-exit", type=float, default=None, metavar="S",
                   help="leave after S seconds with an empty queue (default: never)")
    p.add_argument("--quiet", action="store_true", help="log only to logs/heygem.log, not to the terminal")
    p.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run the items on the Dask cluster at ADDRESS (tcp://host:8786), several at once; "
                        "local:N starts a cluster of N worker processes on this machine")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("jobs", help="list jobs, newest first")
    _root(p)
    p.add_argument("--limit", type=int, default=20, metavar="N", help="at most N jobs (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_jobs)

    p = sub.add_parser("history", help="list finished outputs, newest first")
    _root(p)
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N entries")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--delete", nargs="+", action="extend", metavar="ITEM", help="delete these entries and their files")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("cancel", help="cancel a job (its running item stops within about a second)")
    p.add_argument("job", metavar="JOB", help="job id (a unique prefix is enough)")
    _root(p)
    p.set_defaults(func=cmd_cancel)

    p = sub.add_parser("export", help="write finished outputs into a ZIP file")
    p.add_argument("--out", required=True, metavar="FILE.zip", help="the archive to write")
    p.add_argument("--job", metavar="JOB", help="only this job's outputs")
    p.add_argument("--item", nargs="+", action="extend", metavar="ITEM", help="only these items")
    _root(p)
    p.set_defaults(func=cmd_export)


def _root(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root-path", default="workspace", metavar="DIR", help="workspace folder (default ./workspace)")


def _workspace(args, *, create: bool):
    from ..jobs import Workspace

    root = Path(args.root_path).expanduser()
    if not create and not (root / "jobs.sqlite").is_file():
        raise InputError(root, "no workspace here (nothing was submitted to it yet)")
    return Workspace(root)


# -- commands ---------------------------------------------------------------------------------------------
def cmd_submit(args) -> int:
    from ..jobs import configure_log, ensure_worker

    from ..jobs.media import check_audio, check_video

    # Options and files are checked before anything is created or copied: a typo leaves no trace.
    from ..session import read_text

    options = options_from_args(args)
    audio, videos = check_audio(args.audio), [check_video(v) for v in args.video]
    text = read_text(args.text) if args.text else None
    ws = _workspace(args, create=True)
    configure_log(ws)
    if args.copy:
        audio = ws.store_upload(audio.name, audio)
        videos = [ws.store_upload(v.name, v) for v in videos]
    job_id = ws.store.submit(audio, videos, options, text=text)
    print(job_id, flush=True)
    if not args.no_start:
        ensure_worker(ws.root)
    if not args.wait:
        return 0
    job = wait_with_progress(ws.store, job_id)
    for line in job.errors:
        print(f"heygem: {line}", file=sys.stderr)
    for item in job.items:
        if item.status == DONE:
            print(item.output)
    return 0 if job.status == DONE else 1


def wait_with_progress(store, job_id: str, poll_s: float = 0.25, stream=None):
    """Progress bars (one per item) until the job has finished; returns the final JobRecord."""
    from tqdm import tqdm

    stream = stream or sys.stderr
    bars: dict[str, tqdm] = {}
    try:
        while True:
            job = store.get_job(job_id)
            if job is None:
                raise InputError(job_id, "the job was deleted")
            for item in job.items:
                bar = bars.get(item.id)
                if bar is None:
                    bar = bars[item.id] = tqdm(total=100, position=item.index, file=stream, leave=True,
                                               disable=None,   # no bars when stderr is not a terminal
                                               desc=f"[{item.index + 1}/{job.n_items}] {item.video_name[:30]}",
                                               bar_format="{desc} {bar} {n:3.0f}% {postfix}")
                percent = 100.0 if item.status == DONE else item.percent
                bar.n = percent
                bar.set_postfix_str(_item_state(item), refresh=False)
                bar.refresh()
            if job.status in FINISHED:
                return job
            time.sleep(poll_s)
    finally:
        for bar in bars.values():
            bar.close()


def _item_state(item) -> str:
    if item.status != RUNNING:
        return item.status
    text = f"{item.stage or 'starting'}"
    if item.total:
        text += f" {item.done}/{item.total}"
    if item.eta_s is not None:
        text += f" · ETA {item.eta_s:.0f}s"
    if item.host:           # a cluster run: which machine
        text += f" · {item.host}"
    return text


def cmd_worker(args) -> int:
    from ..jobs import configure_log
    from ..jobs.worker import make_worker

    ws = _workspace(args, create=True)
    handler = configure_log(ws)
    # The log file gets INFO; the terminal gets it only without --quiet (not also through the root logger's
    # warning-level handler, which would let INFO through: handlers filter by their own level).
    logging.getLogger("heygem_core").propagate = False
    if not args.quiet:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(handler.formatter)
        for f in handler.filters:
            console.addFilter(f)
        logging.getLogger("heygem_core").addHandler(console)
    make_worker(ws.root, idle_exit=args.idle_exit, dask=args.dask).run()
    return 0


def cmd_jobs(args) -> int:
    ws = _workspace(args, create=False)
    store = ws.store
    jobs = store.list_jobs(limit=args.limit)
    if any(j.current_item for j in jobs):
        from ..jobs.lock import recover_dead_worker

        if recover_dead_worker(ws):        # its worker died: say so, never "running" forever
            jobs = store.list_jobs(limit=args.limit)
    if args.json:
        print(json.dumps([j.to_dict() for j in jobs], indent=2, ensure_ascii=False))
        return 0
    rows = [("JOB", "STATUS", "ITEMS", "NOW", "CREATED", "AUDIO")]
    for j in jobs:
        cur = j.current_item
        now = f"{cur.index + 1}: {_item_state(cur)} {cur.percent:.0f}%" if cur else ""
        rows.append((j.id, j.status, f"{j.n_done}/{j.n_items}", now, _when(j.created), j.audio_name))
    _table(rows)
    return 0


def cmd_history(args) -> int:
    store = _workspace(args, create=False).store
    if args.delete:
        for item_id in args.delete:
            store.delete_entry(item_id)
            print(f"deleted {item_id}")
        return 0
    entries = store.history(limit=args.limit)
    if args.json:
        print(json.dumps([{**e.to_dict(), "missing": not Path(e.output).is_file()} for e in entries], indent=2,
                         ensure_ascii=False))
        return 0
    rows = [("ITEM", "FINISHED", "SECONDS", "VIDEO", "AUDIO", "ENGINE", "SYNC r", "OUTPUT")]
    for e in entries:
        r = (e.score or {}).get("r")
        gone = "" if Path(e.output).is_file() else "  (file missing)"
        rows.append((e.item_id, _when(e.created), f"{e.duration:.1f}" if e.duration else "",
                     e.video_name, e.audio_name, e.engine or "", f"{r:.2f}" if r is not None else "",
                     e.output + gone))
    _table(rows)
    return 0


def cmd_cancel(args) -> int:
    store = _workspace(args, create=False).store
    job_id = store.resolve_job(args.job)
    store.cancel(job_id)
    print(f"{job_id}: cancelled" + (" (its running item stops within about a second)"
                                    if store.get_job(job_id).current_item else ""))
    return 0


def cmd_export(args) -> int:
    store = _workspace(args, create=False).store
    item_ids = list(args.item or [])
    if args.job:
        job = store.get_job(store.resolve_job(args.job))
        item_ids += [i.id for i in job.items if i.status == DONE]
    path = store.export_zip(args.out, item_ids if (args.job or args.item) else None)
    print(path)
    return 0


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else ""


def _table(rows) -> None:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
