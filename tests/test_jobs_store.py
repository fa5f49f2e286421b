"""The job store, workspace, names and export, without the pipeline (the worker tests run the real one)."""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from heygem_core.errors import InputError
from heygem_core.jobs import JobError, Workspace
from heygem_core.jobs.export import export_zip
from heygem_core.jobs.media import check_video, middle_frame, write_thumbnail
from heygem_core.names import output_stem, safe_name
from heygem_core.jobs.records import STAGE_WEIGHTS, item_percent, job_status
from heygem_core.options import LipSyncOptions

from conftest import tone_bursts
from mediagen import write_wav


def write_speech(path: Path, seconds: float = 1.0) -> Path:
    return write_wav(path, tone_bursts(seconds=seconds, bursts=((0.1, 0.4), (0.6, 0.9))))


def write_video(path: Path, n: int = 12, size=(96, 64)) -> Path:
    from heygem_core.demo import write_clip

    w, h = size
    frames = [np.full((h, w, 3), (i * 20) % 255, np.uint8) for i in range(n)]
    return write_clip(path, frames, 25.0)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("store_media")
    return {"audio": write_speech(d / "speech.wav"), "a": write_video(d / "anna.mp4"),
            "b": write_video(d / "bob.mp4", n=20)}


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path / "ws")


def finish_with_output(store, n_frames=10):
    """Act as the worker for one item: claim it, write its output video, record it done."""
    item = store.claim_next()
    write_video(Path(item.output), n=n_frames)
    thumb = write_thumbnail(item.output, store.root / "thumbnails" / (Path(item.output).stem + ".jpg"))
    store.finish_item(item.id, "done", result={"duration": n_frames / 25, "engine": "procedural"},
                      score={"r": 0.5, "lag_ms": 0.0}, thumbnail=thumb)
    return item


# -- names ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    ("../../x.mp4", "x.mp4"),
    ("..\\..\\evil.mp4", "evil.mp4"),
    ("/etc/passwd", "passwd"),
    (".bashrc", "bashrc"),
    ("..", "upload"),
    ("", "upload"),
    ("讲话人 演示.MP4", "讲话人 演示.MP4"),
    ("Zoë's clip?.mov", "Zoë's clip_.mov"),
    ("a\x00b\nc.wav", "abc.wav"),
    ("con.mp4", "_con.mp4"),
    ("\u202egnp.mp4", "gnp.mp4"),
])
def test_safe_name(raw, expected):
    assert safe_name(raw) == expected


def test_safe_name_long_keeps_extension_and_whole_characters():
    name = safe_name("演" * 400 + ".mp4")
    assert name.endswith(".mp4") and len(name.encode()) <= 120
    assert set(name[:-4]) == {"演"}
    stem = output_stem("x" * 500 + ".mp4", "语音" * 100 + ".wav")
    assert len((stem + "-99.mp4").encode()) < 255


# -- workspace and uploads --------------------------------------------------------------------------------
def test_workspace_layout_created_on_first_use(tmp_path):
    ws = Workspace(tmp_path / "new")
    for sub in ("uploads", "outputs", "thumbnails", "cache", "logs"):
        assert (tmp_path / "new" / sub).is_dir()
    ws.store  # opens the database
    assert (tmp_path / "new" / "jobs.sqlite").is_file()
    import sqlite3
    con = sqlite3.connect(tmp_path / "new" / "jobs.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_workspace_root_must_be_a_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        Workspace(tmp_path / "f")


def test_store_upload_sanitises_and_dedups(ws, media):
    data = media["a"].read_bytes()
    p1 = ws.store_upload("../../x.mp4", data)
    assert p1.name == "x.mp4" and p1.parent.parent == ws.uploads and p1.read_bytes() == data
    # Same content again, as bytes or as a file: the same file comes back, nothing is copied.
    assert ws.store_upload("x.mp4", data) == p1
    assert ws.store_upload("../x.mp4", media["a"]) == p1
    # Same content under another name: a hard link in the same folder (no second copy on disk).
    p2 = ws.store_upload("讲话人.mp4", memoryview(data))
    assert p2.parent == p1.parent and p2.name == "讲话人.mp4" and os.path.samefile(p1, p2)
    # Different content under the same name: its own folder.
    p3 = ws.store_upload("x.mp4", media["b"].read_bytes())
    assert p3.parent != p1.parent and p3.name == "x.mp4"
    hidden = ws.store_upload(".hidden", b"abc")
    assert not hidden.name.startswith(".")
    assert not [p for p in ws.uploads.rglob(".*")], "no temp or hidden file left"
    for p in ws.uploads.rglob("*"):
        assert ws.uploads in p.resolve().parents


# -- submitting and reading -------------------------------------------------------------------------------
def test_submit_and_read_back(ws, media):
    opts = LipSyncOptions(mouth_gain=1.4, crf=23)
    job_id = ws.store.submit(media["audio"], [media["a"], media["b"]], opts)
    job = ws.store.get_job(job_id)
    assert job.status == "queued" and job.n_items == 2 and job.n_done == 0 and job.current_item is None
    assert job.audio == str(media["audio"]) and job.audio_name == "speech.wav"
    assert LipSyncOptions.from_dict(job.options) == opts
    assert [i.video_name for i in job.items] == ["anna.mp4", "bob.mp4"]
    assert [i.status for i in job.items] == ["queued", "queued"]
    assert job.created > 0 and job.started is None and job.finished is None
    assert ws.store.active_job().id == job_id
    assert ws.store.get_job("nope") is None
    assert ws.store.resolve_job(job_id[:5]) == job_id


@pytest.mark.parametrize("which, reason", [("missing", "no such file"), ("empty", "empty file (0 bytes)"),
                                           ("garbage", "not a media file"), ("silent", "has no audio stream")])
def test_submit_rejects_bad_audio_with_one_line(ws, media, tmp_path, which, reason):
    path = {"missing": tmp_path / "nope.wav", "empty": tmp_path / "empty.wav",
            "garbage": tmp_path / "garbage.wav", "silent": media["a"]}[which]
    if which == "empty":
        path.write_bytes(b"")
    if which == "garbage":
        path.write_bytes(b"not audio at all" * 64)
    with pytest.raises(InputError) as err:
        ws.store.submit(path, [media["a"]])
    assert str(err.value) == f"{path}: {reason}" or str(err.value).startswith(f"{path}: {reason}")
    assert "\n" not in str(err.value)
    assert ws.store.list_jobs() == []


def test_submit_rejects_video_without_picture(ws, media):
    with pytest.raises(InputError, match="speech.wav: unsupported file type .wav"):
        ws.store.submit(media["audio"], [media["a"], media["audio"]])
    with pytest.raises(JobError):
        ws.store.submit(media["audio"], [])


def test_list_jobs_newest_first_and_active_job_is_oldest_waiting(ws, media):
    ids = [ws.store.submit(media["audio"], [media["a"]]) for _ in range(3)]
    assert [j.id for j in ws.store.list_jobs()] == ids[::-1]
    assert [j.id for j in ws.store.list_jobs(limit=2)] == ids[:0:-1]
    assert ws.store.active_job().id == ids[0]
    item = ws.store.claim_next()
    assert item.job_id == ids[0] and item.output.endswith("outputs/anna__speech.mp4")
    job = ws.store.get_job(ids[0])
    assert job.status == "running" and job.current_item.id == item.id and job.started is not None


def test_output_names_never_collide(ws, media):
    ws.store.submit(media["audio"], [media["a"], media["a"], media["a"]])
    (ws.outputs / "anna__speech-2.mp4").write_bytes(b"someone else's file")
    outputs = [Path(ws.store.claim_next().output).name for _ in range(3)]
    assert outputs == ["anna__speech.mp4", "anna__speech-3.mp4", "anna__speech-4.mp4"]


def test_progress_and_percent(ws, media):
    ws.store.submit(media["audio"], [media["a"], media["b"]])
    item = ws.store.claim_next()
    ws.store.set_progress(item.id, "synthesis", 5, 10, item_percent("synthesis", 5, 10), 3.0)
    job = ws.store.active_job()
    cur = job.current_item
    assert (cur.stage, cur.done, cur.total, cur.eta_s) == ("synthesis", 5, 10, 3.0)
    w = STAGE_WEIGHTS
    assert cur.percent == pytest.approx(100 * (w["decode"] + w["face"] + w["synthesis"] / 2))
    assert job.percent == pytest.approx(cur.percent / 2)
    assert item_percent("decode", 0, 0) == 0 and item_percent("score", 10, 10) == pytest.approx(100)


def test_job_status_derivation(ws, media):
    job_id = ws.store.submit(media["audio"], [media["a"], media["b"]])
    first = finish_with_output(ws.store)
    assert ws.store.get_job(job_id).status == "running"      # one done, one waiting
    second = ws.store.claim_next()
    ws.store.finish_item(second.id, "failed", error="bob.mp4: no face")
    job = ws.store.get_job(job_id)
    assert job.status == "failed" and job.n_done == 2 and job.finished is not None
    assert job.errors == ["bob.mp4: bob.mp4: no face"]
    assert job.items[0].output == first.output and job.items[1].output is None
    assert job_status([]) == "cancelled"


def test_cancel_waiting_items_at_once_and_flags_the_running_one(ws, media):
    job_id = ws.store.submit(media["audio"], [media["a"], media["b"]])
    other = ws.store.submit(media["audio"], [media["b"]])
    running = ws.store.claim_next()
    assert not ws.store.stop_requested(running.id)
    ws.store.cancel(job_id)
    job = ws.store.get_job(job_id)
    assert [i.status for i in job.items] == ["running", "cancelled"]
    assert ws.store.stop_requested(running.id)
    ws.store.finish_item(running.id, "cancelled")
    assert ws.store.get_job(job_id).status == "cancelled"
    assert ws.store.get_job(other).status == "queued"
    with pytest.raises(JobError, match="no job 'zzz'"):
        ws.store.cancel("zzz")


def test_recover_marks_running_item_interrupted_and_runs_it_first(ws, media):
    j1 = ws.store.submit(media["audio"], [media["a"], media["b"]])
    first = ws.store.claim_next()               # the worker "dies" here
    assert ws.store.recover() == [first.id]
    assert ws.store.get_item(first.id).status == "interrupted"
    again = ws.store.claim_next()
    assert again.id == first.id and again.output == first.output and again.attempts == 2
    assert ws.store.get_job(j1).status == "running"


def test_recover_honours_a_cancel_sent_to_a_dead_worker(ws, media):
    job_id = ws.store.submit(media["audio"], [media["a"]])
    ws.store.claim_next()
    ws.store.cancel(job_id)
    assert ws.store.recover() == []
    assert ws.store.get_job(job_id).status == "cancelled"


# -- history, delete, export ------------------------------------------------------------------------------
def test_history_newest_first_delete_and_export(ws, media, tmp_path):
    j1 = ws.store.submit(media["audio"], [media["a"]], LipSyncOptions(crf=30))
    first = finish_with_output(ws.store)
    j2 = ws.store.submit(media["audio"], [media["b"], media["a"]])
    second = finish_with_output(ws.store, n_frames=14)
    third = finish_with_output(ws.store)
    hist = ws.store.history()
    assert [h.item_id for h in hist] == [third.id, second.id, first.id]
    h = hist[-1]
    assert (h.job_id, h.video_name, h.audio_name, h.engine, h.duration) == (j1, "anna.mp4", "speech.wav",
                                                                            "procedural", 0.4)
    assert h.options["crf"] == 30 and h.score == {"r": 0.5, "lag_ms": 0.0}
    assert Path(h.output).is_file() and h.thumbnail == str(ws.thumbnails / "anna__speech.jpg")
    assert h.created >= ws.store.get_job(j1).created
    assert [h.item_id for h in ws.store.history(limit=1)] == [third.id]

    out = ws.store.export_zip(tmp_path / "all.zip")
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert sorted(names) == sorted(["bob__speech.mp4", "anna__speech-2.mp4", "anna__speech.mp4",
                                        "results.json"])
        assert zf.read("bob__speech.mp4") == Path(second.output).read_bytes()
        manifest = json.loads(zf.read("results.json"))
        assert {m["video"] for m in manifest} == {"anna.mp4", "bob.mp4"}
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist() if i.filename.endswith(".mp4"))
    sel = ws.store.export_zip(tmp_path / "one.zip", [second.id])
    assert zipfile.ZipFile(sel).namelist() == ["bob__speech.mp4", "results.json"]
    assert not list(tmp_path.glob(".*part"))
    with pytest.raises(JobError):
        ws.store.export_zip(tmp_path / "bad.zip", ["nope-1"])

    thumb = ws.thumbnails / "anna__speech.jpg"
    ws.store.delete_entry(first.id)
    assert not Path(first.output).exists() and not thumb.exists()
    assert ws.store.get_job(j1) is None                      # its only item is gone, so is the job
    assert [h.item_id for h in ws.store.history()] == [third.id, second.id]
    assert ws.store.get_job(j2).n_items == 2
    with pytest.raises(JobError):
        ws.store.delete_entry(first.id)


def test_find_waiting_matches_audio_videos_in_order_and_options(ws, media):
    s = ws.store
    job = s.submit(media["audio"], [media["a"], media["b"]], LipSyncOptions(crf=22))
    assert s.find_waiting(media["audio"], [media["a"], media["b"]], LipSyncOptions(crf=22)).id == job
    assert s.find_waiting(media["audio"], [media["b"], media["a"]], LipSyncOptions(crf=22)) is None
    assert s.find_waiting(media["audio"], [media["a"], media["b"]], LipSyncOptions()) is None
    assert s.find_waiting(media["audio"], [media["a"]], LipSyncOptions(crf=22)) is None
    s.cancel(job)                                            # a finished job is no twin
    assert s.find_waiting(media["audio"], [media["a"], media["b"]], LipSyncOptions(crf=22)) is None


def test_queue_order_move_up_and_retry(ws, media):
    s = ws.store
    first = s.submit(media["audio"], [media["a"]])
    second = s.submit(media["audio"], [media["b"]])
    third = s.submit(media["audio"], [media["a"], media["b"]])
    running = s.claim_next()
    assert running.job_id == first
    assert [j.id for j in s.queue()] == [first, second, third]
    assert s.move_up(third) is True
    assert [j.id for j in s.queue()] == [first, third, second]
    assert s.move_up(third) is False                          # the running job stays ahead of it
    with pytest.raises(JobError, match="not waiting"):
        s.move_up(first)
    assert s.claim_next().job_id == third                     # the worker follows the new order
    s.finish_item(running.id, "failed", error="no face found")
    with pytest.raises(JobError, match="only a failed or cancelled"):
        s.retry_item(s.get_job(third).items[0].id)
    s.retry_item(running.id)
    item = s.get_item(running.id)
    assert (item.status, item.error, item.finished) == ("queued", None, None)
    assert first in [j.id for j in s.queue()]


def test_delete_refuses_waiting_items(ws, media):
    job_id = ws.store.submit(media["audio"], [media["a"]])
    with pytest.raises(JobError, match="queued; cancel it first"):
        ws.store.delete_entry(f"{job_id}-1")


def test_export_errors(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        export_zip(tmp_path, [])
    with pytest.raises(InputError, match="folder does not exist"):
        export_zip(tmp_path / "no" / "x.zip", [])


def test_thumbnail_is_small_middle_frame(tmp_path, media):
    thumb = write_thumbnail(media["b"], tmp_path / "t.jpg", width=48)
    import cv2
    img = cv2.imread(str(thumb))
    assert img.shape == (32, 48, 3)
    mid = middle_frame(media["b"])       # frame 10 of 20: gray level 200
    assert abs(int(mid.mean()) - 200) <= 3
    assert check_video(media["b"]) == media["b"]


# -- several processes at once ----------------------------------------------------------------------------
def _submit_many(root, audio, video, n, queue):
    ws = Workspace(root)
    queue.put([ws.store.submit(audio, [video, video]) for _ in range(n)])


def test_two_submitters_at_once(tmp_path, media):
    root = tmp_path / "ws"          # not created yet: both processes race to create the schema too
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_submit_many, args=(root, media["audio"], media["a"], 15, queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    ids = queue.get(timeout=60) + queue.get(timeout=60)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    store = Workspace(root).store
    jobs = store.list_jobs(limit=None)
    assert len(ids) == len(set(ids)) == 30 and {j.id for j in jobs} == set(ids)
    assert all(j.n_items == 2 and j.status == "queued" for j in jobs)
    # Every item gets its own output name even though all 60 share one video and one audio.
    outputs = [store.claim_next().output for _ in range(60)]
    assert len(set(outputs)) == 60


# -- the log ----------------------------------------------------------------------------------------------
def test_log_has_ids_and_rotates_by_size(ws):
    import logging

    from heygem_core.jobs import configure_log, log_context

    handler = configure_log(ws, max_bytes=4000, backups=2)
    try:
        assert configure_log(ws.root) is handler                 # idempotent: one handler per file
        log = logging.getLogger("heygem_core.test")
        with log_context("j1", "j1-2"):
            log.warning("frame %d has no face", 7)
        log.info("between jobs")
        for i in range(200):
            log.info("line %d of filler text to make the file rotate", i)
        handler.flush()
    finally:
        logging.getLogger("heygem_core").removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in ws.logs.iterdir())
    assert files == ["heygem.log", "heygem.log.1", "heygem.log.2"]
    assert all(p.stat().st_size <= 4200 for p in ws.logs.iterdir())
    first = ws.logs / "heygem.log.2"
    assert "line 199" in (ws.logs / "heygem.log").read_text()
    # older lines rotated away, but every kept line has a timestamp, a level and the job/item context
    import re
    for line in (ws.logs / "heygem.log").read_text().splitlines():
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (INFO|WARNING) +\[\d+\] (-|job=\S+ item=\S+) ", line)
    assert first.exists()


def test_a_workspace_from_before_hosts_opens_and_records_them(tmp_path, media):
    """A store of schema 1 (no items.host) is upgraded in place; its jobs stay and new runs get a host."""
    import sqlite3

    from heygem_core.jobs import store as store_mod

    root = tmp_path / "ws"
    root.mkdir()
    con = sqlite3.connect(root / "jobs.sqlite")
    con.executescript(store_mod._SCHEMA.replace(",\n    host       TEXT", "") + "PRAGMA user_version = 1;")
    with pytest.raises(sqlite3.OperationalError):       # really the old layout
        con.execute("SELECT host FROM items")
    with con:
        con.execute("INSERT INTO jobs (id, created, audio, audio_name, options) VALUES ('old1', 1.0, ?, "
                    "'speech.wav', '{}')", (str(media["audio"]),))
        con.execute("INSERT INTO items (id, job_id, idx, video, video_name, status) VALUES "
                    "('old1-1', 'old1', 0, ?, 'anna.mp4', 'queued')", (str(media["a"]),))
    con.close()
    store = Workspace(root).store
    con = sqlite3.connect(root / "jobs.sqlite")
    assert con.execute("PRAGMA user_version").fetchone()[0] == store_mod.SCHEMA_VERSION
    assert [i.video_name for i in store.get_job("old1").items] == ["anna.mp4"]
    item = store.claim_next()
    assert item.id == "old1-1" and store.get_item(item.id).host is None
    store.set_host(item.id, "render-2 (tcp://10.0.0.7:40113)")
    assert store.get_item(item.id).host == "render-2 (tcp://10.0.0.7:40113)"
