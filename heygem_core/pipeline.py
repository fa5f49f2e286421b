"""`generate`: one speech track + one face video → one lip-synced MP4.

    speech = prepare_speech("talk.m4a")                 # decode + features once for a batch
    for video in videos:
        generate("talk.m4a", video, out_dir / f"{video.stem}.mp4", options, speech=speech)

The steps: (1) check inputs, (2) speech, (3) probe the template, (4) the face track from the cache, if there,
(5) engine prepare, (6) stream: a reader thread decodes (and, on a cold cache, tracks the face in the same pass)
→ bounded queue → synthesise + composite → encoder thread, so memory stays bounded however long the video is.
The output is written under a temporary name and renamed when complete.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from contextlib import ExitStack, closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from . import composite
from .media.audio import Audio, AudioStream, load_audio
from .engines import Engine, get_engine
from .errors import Cancelled, InputError, NoFaceError, OptionsError
from .media.files import check_file, check_output
from .options import LipSyncOptions
from .progress import Progress
from .speech import SAMPLE_RATE, Speech
from .media.timeline import output_frame_count, template_indices
from .face.track import TrackBuilder, cache_path, cached_track, track_video
from .media.video import IMAGE_EXTS, VIDEO_EXTS, FrameReader, probe_video
from .media.encode import VideoWriter

log = logging.getLogger(__name__)

ProgressHook = Callable[[Progress], None]
StopHook = Callable[[], bool]
# Bytes of decoded frames each frame queue (reader → engine, a batch, engine → encoder) may hold: small
# frames keep the usual counts (1080p: 21 frames fit), 8K frames (95 MB each) one at a time.
FRAME_BUDGET_BYTES = 128 * 1024 * 1024


@dataclass
class GenerateResult:
    """What one ``generate`` call made, how long it took, and the options it used."""

    output: Path
    audio: str
    video: str
    frames: int
    fps: float
    duration: float
    seconds: float
    face_ratio: float
    engine: str
    options: dict = field(repr=False)
    stage_seconds: dict = field(default_factory=dict, repr=False)
    track_from_cache: bool = False

    def to_dict(self) -> dict:
        d = asdict(self)
        d["output"] = str(self.output)
        return d


def prepare_speech(audio: str | Path, cache_dir: str | Path | None = None) -> Speech:
    """Decode the speech track to 16 kHz mono once; features are memoised on the returned object (and its
    viseme timeline kept in ``cache_dir``, when given)."""
    decoded = load_audio(audio, sample_rate=SAMPLE_RATE, mono=True)
    if decoded.samples.size == 0 or decoded.duration <= 0:
        raise InputError(audio, "the audio track is empty (zero length)")
    return Speech(samples=decoded.samples, sample_rate=SAMPLE_RATE, path=str(audio), cache_dir=cache_dir)


def generate(audio: str | Path, video: str | Path, out: str | Path, options: LipSyncOptions | None = None, *,
             on_progress: ProgressHook | None = None, should_stop: StopHook | None = None,
             speech: Speech | None = None, engine: Engine | None = None,
             track_cache: str | Path | None = None, window: tuple[int, int] | None = None) -> GenerateResult:
    """Make ``out`` (H.264 + AAC MP4): the face in ``video`` speaking ``audio``.

    ``speech`` and ``engine`` may be passed in to share them across the videos of a batch; ``track_cache`` is
    a folder for face tracks, so the same template with another audio skips the face stage. ``window=(first,
    end)`` makes only output frames ``first … end-1`` of the full result, with the template frames, the mouth
    and the sound of those same frames (a preview of any moment; the engine is still prepared on the whole
    speech, so loudness is measured against the whole track).
    """
    options = options or LipSyncOptions()
    started = time.perf_counter()
    report = on_progress or (lambda p: None)
    stop = should_stop or (lambda: False)
    timings: dict[str, float] = {}

    # 1. inputs
    check_file(video, VIDEO_EXTS + IMAGE_EXTS, "a video or an image")  # fail before decoding speech
    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise InputError(out, "the output must be an .mp4 file")
    check_output(out)             # a folder that takes no files fails now, not after the whole synthesis

    # 2. speech
    report(Progress("decode", 0, 1))
    t = time.perf_counter()
    if speech is None:
        speech = prepare_speech(audio, cache_dir=track_cache)
    sound = AudioStream(audio)      # the output's sound, decoded as the encoder reaches it, never held whole

    # 3. template
    info = probe_video(video, image_fps=options.image_fps)
    n_full = output_frame_count(speech.duration, info.fps)
    first, end = check_window(window, n_full)
    n_out = end - first
    if (first, end) != (0, n_full):     # a window's few seconds of sound, cut from the decoded track
        native = load_audio(audio, sample_rate=None, mono=False)
        a, b = (int(round(k / info.fps * native.sample_rate)) for k in (first, end))
        sound = Audio(native.samples[..., a:b], native.sample_rate, native.path)
    timings["decode"] = time.perf_counter() - t
    report(Progress("decode", 1, 1))

    # 4. face track: from the cache, else built during the synthesis pass (one decode for both). The pass
    # reaches every template frame in order only from the first; a window further on tracks the template first.
    full_order = template_indices(n_full, info.frame_count, options.loop_mode)
    order = full_order[first:end]
    need = int(full_order[:end].max()) + 1 if end else 0
    track = cached_track(info, options, track_cache, need)
    if track is None and first > 0:
        track = track_video(info, options, cache_dir=track_cache, should_stop=should_stop)

    # 5. engine
    engine = engine or get_engine(options)
    engine.prepare(speech, info.fps, n_full)

    # 6. synthesis, streamed. Decoding and (on a cold cache) face tracking run on the reader thread, so they
    # overlap the engine here and the encoder on its own thread.
    t = time.perf_counter()
    face_s = [0.0]
    with ExitStack() as stack:
        builder = None if track is not None else stack.enter_context(
            TrackBuilder(options, info.fps, capacity=need))

        def face_of(j: int, frame: np.ndarray) -> np.ndarray | None:
            if builder is None:
                return track.face(j)
            if j == builder.count:                 # first visit: the forward pass reaches every frame in order
                tf = time.perf_counter()
                builder.add(frame)
                face_s[0] += time.perf_counter() - tf
            return builder.face(j)

        writer = stack.enter_context(VideoWriter(out, info.width, info.height, info.fps, audio=sound,
                                                 crf=options.crf, preset=options.preset,
                                                 audio_bitrate=options.audio_bitrate,
                                                 queue_size=frames_in_budget(info.width, info.height, 8)))
        batch = max(1, int(getattr(engine, "batch_size", 8)))
        # closed first on the way out, so the reader thread has stopped before the tracker is closed
        batches = stack.enter_context(closing(_batches(FrameReader(info, planar=True), order, face_of, batch, stop)))
        for k0, frames, faces in batches:
            ks = list(range(first + k0, first + k0 + len(frames)))
            for frame, patch in zip(frames, engine.synthesize(frames, faces, ks)):
                if patch is not None:
                    composite.apply(frame, patch)
                writer.write(frame)
            report(Progress("synthesis", k0 + len(frames), n_out))
        if builder is not None:
            track = builder.finish()
            if not track.found.any():     # raised inside the writer: nothing is left behind
                raise NoFaceError(video, f"no face found in any of {len(track)} frames")
            if track_cache is not None:
                try:
                    track.save(cache_path(info, options, track_cache))
                except OSError as exc:  # a cache that cannot be written costs the next run time, not this one
                    log.warning("face track not cached in %s: %s", track_cache, exc)
        report(Progress("encode", 0, 1))
    timings["face"] = face_s[0]                      # tracking time, overlapped with the synthesis
    timings["synthesis"] = time.perf_counter() - t
    report(Progress("encode", 1, 1))

    seconds = time.perf_counter() - started
    result = GenerateResult(output=out, audio=str(audio), video=str(video), frames=n_out, fps=info.fps,
                            duration=n_out / info.fps, seconds=seconds, face_ratio=track.face_ratio,
                            engine=options.engine, options=options.to_dict(), stage_seconds=timings,
                            track_from_cache=track.from_cache)
    log.info("generated %s: %d frames in %.1f s (face %.0f%%)", out, n_out, seconds, 100 * track.face_ratio)
    return result


def check_window(window: tuple[int, int] | None, n_frames: int) -> tuple[int, int]:
    """``(first, end)`` of a window of output frames, checked against the ``n_frames`` of the full result."""
    if window is None:
        return 0, n_frames
    first, end = (int(k) for k in window)
    if not 0 <= first < end <= n_frames:
        raise OptionsError("window", f"frames {first}–{end - 1} are not within the result's {n_frames} frames "
                                   f"(0–{n_frames - 1})")
    return first, end


def frames_in_budget(width: int, height: int, wanted: int) -> int:
    """How many of ``wanted`` decoded frames of this size fit in `FRAME_BUDGET_BYTES` (at least one)."""
    return max(1, min(wanted, FRAME_BUDGET_BYTES // max(1, width * height * 3)))


def _batches(reader: FrameReader, order: np.ndarray, face_of: Callable, size: int, stop: StopHook
             ) -> Iterator[tuple[int, list[np.ndarray], list]]:
    """Template frames in output order with their faces (``face_of(index, frame)``), decoded and looked up
    on a thread into a bounded queue, grouped into batches of ``size``. The queue and a batch each hold at
    most `FRAME_BUDGET_BYTES` of frames: 8K frames (100 MB each) come a few at a time."""
    size = frames_in_budget(reader.info.width, reader.info.height, size)
    q: queue.Queue = queue.Queue(maxsize=frames_in_budget(reader.info.width, reader.info.height, 2 * size))
    done = object()
    quit_flag = threading.Event()

    def put(item) -> bool:
        while not quit_flag.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for j, frame in reader.frames(order):
                if not put((frame, face_of(j, frame))):
                    return
            put(done)
        except BaseException as exc:  # surfaced in the consumer
            put(exc)

    thread = threading.Thread(target=produce, name="heygem-decode", daemon=True)
    thread.start()
    k = 0
    try:
        while True:
            frames: list[np.ndarray] = []
            faces: list = []
            while len(frames) < size:
                item = q.get()
                if item is done:
                    break
                if isinstance(item, BaseException):
                    raise item
                frames.append(item[0])
                faces.append(item[1])
            if frames:
                if stop():
                    raise Cancelled("stopped by request")
                yield k, frames, faces
                k += len(frames)
            if len(frames) < size:
                return
    finally:
        quit_flag.set()
        thread.join(timeout=5)
