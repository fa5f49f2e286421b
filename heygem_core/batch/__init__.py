"""Batches: one speech track, many face videos, described by a parameter file; the report of a run.

    plan = plan_batch(audio="talk.wav", videos=["clips/*.mp4", "anna.jpg"], params="params/news.yaml",
                      out_dir="results", text="talk.txt")
    items = run_batch(plan, reporter=ProgressLines(print))
    html = report_html(items)                 # one row per video: output, frames, duration, time, sync, face
    raise_if_failed(items)                    # after the report: a failed item fails the run

The papermill notebook ``batch.ipynb`` (a package resource) is a thin client over this package, and
``heygem batch`` runs that notebook.
"""
from ..errors import BatchFailed
from .plan import (BATCH_KEYS, BUILTIN_CLIP, BUILTIN_PHOTO, BUILTIN_SPEECH, BUILTINS, DEFAULT_OUT_DIR, BatchPlan, BatchVideo, expand_videos, load_batch_params,
                   plan_batch, resolve_media, script_text)
from .report import COLUMNS, REPORT_NAME, raise_if_failed, report_html, report_rows, write_report
from .run import BatchItem, ProgressLines, Reporter, run_batch

__all__ = ["BATCH_KEYS", "BUILTIN_CLIP", "BUILTIN_PHOTO", "BUILTIN_SPEECH", "BUILTINS", "DEFAULT_OUT_DIR", "BatchFailed", "BatchItem", "BatchPlan", "BatchVideo",
           "COLUMNS", "ProgressLines", "REPORT_NAME", "Reporter", "expand_videos", "load_batch_params",
           "plan_batch", "raise_if_failed", "report_html", "report_rows", "resolve_media", "run_batch",
           "script_text", "write_report"]
