"""Following one face from frame to frame with MediaPipe: FaceMesh on a square crop around the face of the
previous frame, face detection on the whole frame (then on square tiles of it) when there was none, and
One-Euro smoothing of the landmarks.

The crop matters: FaceMesh's landmark projection assumes a square image, and the crop hands the model the
face at the same size however large the frame and wherever the face is in it (past the frame's edge is
black).
"""
from __future__ import annotations

import cv2
import numpy as np

from .landmarks import face_box
from ..lean_import import import_lean
from ..native_log import quiet_native_stderr
from ..options import LipSyncOptions
from .smoothing import OneEuroFilter

CROP_PAD = 1.7          # side of the square crop ÷ the larger side of the face box
CROP_DEAD_BAND = 0.03   # the crop moves once a face-box edge has moved this share of the face size
CROP_SIZE = 288         # pixels of the crop handed to FaceMesh (its model input is 192 px)
DETECT_SIZE = 640       # the whole frame is shrunk and padded into a square this big for face detection
TILE_EVERY = 5          # while no face is found, the tiled search runs on every this many frames


def smoothing_filter(smoothing: float) -> OneEuroFilter | None:
    """The landmark filter for ``options.track_smoothing`` in [0, 1]; None (raw landmarks) at 0.

    As smoothing rises the rest cut-off falls from 8 Hz to 0.3 Hz and beta (cut-off gained per face width
    per second of motion) from 80 to 20. At the default 0.5 a steady face's jitter is about halved while
    the mouth-opening curve of real talking clips lags the raw one by about a tenth of a frame.
    """
    if smoothing <= 0:
        return None
    return OneEuroFilter(min_cutoff=8.0 * (0.3 / 8.0) ** smoothing, beta=80.0 * 0.25 ** smoothing,
                        d_cutoff=4.0)


def square_crop(frame: np.ndarray, center: tuple[float, float], side: float,
                size: int) -> tuple[np.ndarray, float, float, float]:
    """A ``size``² crop of the square of ``side`` pixels around ``center``; outside the frame is black.

    Returns (crop (size, size, 3) uint8, x0, y0, scale): frame point = (x0, y0) + crop point · scale.
    """
    h, w = frame.shape[:2]
    side_i = max(2, int(round(side)))
    x0 = int(round(center[0] - side_i / 2))
    y0 = int(round(center[1] - side_i / 2))
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x0 + side_i, w), min(y0 + side_i, h)
    if cx1 <= cx0 or cy1 <= cy0:
        region = np.zeros((side_i, side_i, 3), np.uint8)
    else:
        region = cv2.copyMakeBorder(frame[cy0:cy1, cx0:cx1], cy0 - y0, y0 + side_i - cy1, cx0 - x0,
                                    x0 + side_i - cx1, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    interp = cv2.INTER_AREA if side_i > size else cv2.INTER_LINEAR
    return cv2.resize(region, (size, size), interpolation=interp), float(x0), float(y0), side_i / size


class FaceTracker:
    """Follows one face through consecutive frames; ``update(frame)`` per frame, in order.

    Holds MediaPipe graphs (slow to build, not thread-safe): make one per video and ``close()`` it, or use
    it as a context manager.
    """

    def __init__(self, options: LipSyncOptions | None = None, fps: float = 25.0):
        face_mesh, face_detection = _face_solutions()  # heavy: imported when tracking actually starts

        options = options or LipSyncOptions()
        conf = options.face_confidence
        # Static mode: the mesh finds the face in every crop anew. Its tracking mode places the region from
        # its own previous landmarks, which lags a moving head and cut the lip gap short on real clips.
        # Two faces at most, so that a second face entering the crop cannot displace the one followed.
        with quiet_native_stderr():
            self._mesh = face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=2, refine_landmarks=True, min_detection_confidence=conf)
            # Full-range first (small, distant faces), then short-range (large, close faces).
            self._detectors = [face_detection.FaceDetection(model_selection=m,
                                                                         min_detection_confidence=conf)
                               for m in (1, 0)]
            for shape in ((64, 64, 3), (48, 64, 3)):   # first runs print their notices now, silenced
                for graph in (self._mesh, *self._detectors):
                    graph.process(np.zeros(shape, np.uint8))
        self._mesh_quiet = True
        self._filter = smoothing_filter(options.track_smoothing)
        self._dt = 1.0 / fps if fps > 0 else 1.0 / 25.0
        self._prev: np.ndarray | None = None      # raw landmarks of the previous frame
        self._last_box: np.ndarray | None = None  # the last face seen, kept over gaps to stay on one person
        self._crop_box: np.ndarray | None = None  # face box the current crop is framed on
        self._misses = 0                          # frames since a face was last found
        self.detections = 0                       # full-frame detections run (for diagnostics)

    def close(self) -> None:
        for graph in (self._mesh, *self._detectors):
            graph.close()

    def __enter__(self) -> "FaceTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, frame: np.ndarray) -> np.ndarray | None:
        """Landmarks (478, 2) float32 of the followed face in ``frame`` (BGR uint8), or None."""
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        raw = None
        if self._prev is not None:
            raw = self._mesh_in(*self._crop(frame, self._follow(face_box(self._prev))))
        if raw is None:
            box = self._detect(frame)
            if box is not None:
                raw = self._mesh_in(*self._crop(frame, box))
            if raw is not None:
                # Once more on a crop framed by the landmarks, as every following frame will be: the
                # detector's box sits lower and tighter, and the first frame should not differ for it.
                self._crop_box = face_box(raw)
                framed = self._mesh_in(*self._crop(frame, self._crop_box))
                raw = raw if framed is None else framed
        if raw is None:
            self._prev = self._crop_box = None
            self._misses += 1
            if self._filter is not None:
                self._filter.reset()  # after a gap, start afresh instead of gliding from a stale face
            return None
        self._prev = raw
        self._misses = 0
        self._last_box = face_box(raw)
        if self._filter is None:
            return raw
        x0, y0, x1, y1 = self._last_box
        return self._filter(raw, self._dt, scale=max(x1 - x0, 1.0)).astype(np.float32)

    # -- steps
    def _follow(self, box: np.ndarray) -> np.ndarray:
        """The crop box for the next frame: the previous one, unless the face has left its dead band.

        Re-framing on every frame would feed the mesh's own noise back into its next crop: on identical
        frames the landmarks then wobble by pixels instead of standing still.
        """
        old = self._crop_box
        if old is not None:
            size = max(old[2] - old[0], old[3] - old[1])
            if np.abs(box - old).max() < CROP_DEAD_BAND * size:
                return old
        self._crop_box = box
        return box

    def _crop(self, frame: np.ndarray, box: np.ndarray):
        x0, y0, x1, y1 = (float(v) for v in box)
        side = CROP_PAD * max(x1 - x0, y1 - y0)
        return square_crop(frame, ((x0 + x1) / 2, (y0 + y1) / 2), side, CROP_SIZE)

    def _mesh_in(self, crop: np.ndarray, x0: float, y0: float, scale: float) -> np.ndarray | None:
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
        if self._mesh_quiet:     # its first measured face prints one more start-up notice
            with quiet_native_stderr():
                result = self._mesh.process(rgb)
        else:
            result = self._mesh.process(rgb)
        if not result.multi_face_landmarks:
            return None
        self._mesh_quiet = False
        faces = [np.array([(p.x, p.y) for p in f.landmark], np.float32) for f in result.multi_face_landmarks]
        # The crop is centred on the face being followed: keep the face nearest its centre.
        pts = min(faces, key=lambda f: float(np.linalg.norm(f.mean(axis=0) - 0.5)))
        return pts * np.float32(CROP_SIZE * scale) + np.array([x0, y0], np.float32)

    def _detect(self, frame: np.ndarray) -> np.ndarray | None:
        """Box (x0, y0, x1, y1) of the face to follow, found in the whole frame, or None.

        The whole frame first (full-range model, then short-range). When that finds nothing in a wide or
        tall frame, square tiles along its long side, where a small face is larger in the model's input;
        after the first miss only every ``TILE_EVERY``-th frame, so a long stretch without a face stays cheap.
        """
        self.detections += 1
        frame = np.asarray(frame)        # a PlanarFrame: the whole frame in BGR, only when searching
        h, w = frame.shape[:2]
        long, short = max(w, h), min(w, h)
        # One shrink for every pass: tiles of the short side's size come out DETECT_SIZE square.
        small = _shrink(frame, DETECT_SIZE / short) if short > DETECT_SIZE else frame
        scale = np.array([w / small.shape[1], h / small.shape[0]] * 2, np.float32)
        boxes = self._detect_in(small, 0, 0, max(small.shape[:2]), self._detectors)
        if boxes is None and long > 1.2 * short and self._misses % TILE_EVERY == 0:
            side = min(small.shape[:2])
            n = int(np.ceil(long / (0.75 * short)))  # overlapping, so a face on a seam is whole in one
            found = []
            for start in np.linspace(0, max(small.shape[:2]) - side, n).round().astype(int):
                x0, y0 = (start, 0) if w > h else (0, start)
                found.append(self._detect_in(small, x0, y0, side, self._detectors[:1]))
            found = [b for b in found if b is not None]
            boxes = np.concatenate(found) if found else None
        return None if boxes is None else choose_face(boxes * scale, (h, w), self._last_box)

    @staticmethod
    def _detect_in(image: np.ndarray, x0: int, y0: int, side: int, detectors) -> np.ndarray | None:
        """Face boxes (k, 4) in ``image`` pixels found in its square (x0, y0, side), or None."""
        region = image[y0:y0 + side, x0:x0 + side]
        rh, rw = region.shape[:2]
        if max(rw, rh) != DETECT_SIZE:
            region = _shrink(region, DETECT_SIZE / max(rw, rh))
        sh, sw = region.shape[:2]
        square = cv2.copyMakeBorder(region, 0, DETECT_SIZE - sh, 0, DETECT_SIZE - sw, cv2.BORDER_CONSTANT,
                                    value=(0, 0, 0))
        rgb = cv2.cvtColor(square, cv2.COLOR_BGR2RGB)
        to_image = np.array([DETECT_SIZE * rw / sw, DETECT_SIZE * rh / sh] * 2, np.float32)
        for detector in detectors:
            result = detector.process(rgb)
            if result.detections:
                rel = [d.location_data.relative_bounding_box for d in result.detections]
                boxes = np.array([(b.xmin, b.ymin, b.xmin + b.width, b.ymin + b.height) for b in rel], np.float32)
                return boxes * to_image + np.array([x0, y0, x0, y0], np.float32)
        return None


def _face_solutions():
    """MediaPipe's ``face_mesh`` and ``face_detection`` solution modules, without running ``mediapipe``'s
    ``__init__`` (every solution, the Tasks API, matplotlib: about 0.7 s of CPU) when nothing has yet."""
    skip = ("mediapipe", "mediapipe.python.solutions")
    return (import_lean("mediapipe.python.solutions.face_mesh", skip),
            import_lean("mediapipe.python.solutions.face_detection", skip))


def _shrink(image: np.ndarray, k: float) -> np.ndarray:
    """``image`` resized by ``k``. A shrink halves first (fast and anti-aliased, where a non-integer
    INTER_AREA shrink of a 1080p frame costs ~10 ms), then goes bilinear the rest of the way."""
    h, w = image.shape[:2]
    tw, th = max(1, round(w * k)), max(1, round(h * k))
    while image.shape[1] >= 2 * tw and image.shape[0] >= 2 * th:
        image = cv2.pyrDown(image)
    return cv2.resize(image, (tw, th), interpolation=cv2.INTER_LINEAR)


def choose_face(boxes: np.ndarray, shape: tuple[int, int], last_box: np.ndarray | None) -> np.ndarray:
    """The box to follow among ``boxes`` (k, 4): the one nearest the last face seen, when there was one;
    otherwise the largest, with faces far from the centre of the frame counting for less."""
    boxes = np.asarray(boxes, np.float32)
    centers = (boxes[:, :2] + boxes[:, 2:]) / 2
    if last_box is not None:
        last_center = (last_box[:2] + last_box[2:]) / 2
        return boxes[int(np.argmin(np.linalg.norm(centers - last_center, axis=1)))]
    h, w = shape[:2]
    area = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
    off_center = np.linalg.norm((centers - [w / 2, h / 2]) / [w / 2, h / 2], axis=1) / np.sqrt(2)
    return boxes[int(np.argmax(area * (1.0 - 0.5 * off_center)))]
