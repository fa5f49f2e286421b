"""The `wav2lip` engine: the published Wav2Lip generator redraws the lower face from the speech.

Per frame: a face box from the tracker's landmarks plus the option pads (chin inside), the crop at 96×96,
the generator's new lower half, resized back and blended through a feathered jaw-and-mouth mask, so no box
edge shows and everything above the nose stays the template's own pixels.
"""
from __future__ import annotations

import logging

import cv2
import numpy as np
import torch

from ...composite import Patch, feathered_mask, match_color
from ...errors import OptionsError
from ...face.landmarks import CHIN, FACE_OVAL, NOSE_BRIDGE, SUBNASALE, face_box
from ...options import LipSyncOptions
from ...speech import Speech
from .weights import resolve_checkpoint
from .mel import mel_windows, speech_mel
from .checkpoint import load_generator
from .fast import InferenceGenerator
from .net import FACE_SIZE

log = logging.getLogger(__name__)

MIN_BOX = 24  # faces smaller than this (pixels) carry too little detail for the model: left untouched


def pick_device(choice: str) -> torch.device:
    """``auto``: CUDA when present, else CPU. ``cuda`` without a GPU is an error, not a silent fallback."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise OptionsError("device", "cuda was asked for but PyTorch sees no CUDA device here; use auto or cpu")
    return torch.device(choice)


class Wav2LipEngine:
    """Engine protocol implementation around the published generator (see ``heygem_core.engines``).

    ``options.checkpoint`` is a weights name (``heygem weights list``) or a file path; loading is strict and
    fails with CheckpointError. ``precision`` is passed to InferenceGenerator ("auto" = fp16 on CUDA, bf16
    on CPUs with native bf16, each kept only if it matches fp32 on the first batch)."""

    name = "wav2lip"

    @property
    def batch_size(self) -> int:
        """Frames per network call: large batches keep a GPU busy."""
        return max(1, self.options.batch_size)

    def __init__(self, options: LipSyncOptions, *, weights_dir=None, precision: str = "auto"):
        if not options.checkpoint:
            raise OptionsError("checkpoint", "the wav2lip engine needs a checkpoint (a path or a weights name)")
        self.options = options
        self.device = pick_device(options.device)
        path, allow_pickle = resolve_checkpoint(options.checkpoint, weights_dir)
        self.checkpoint_path = path
        model = load_generator(path, "cpu", allow_pickle=allow_pickle)
        self.generator = InferenceGenerator(model, self.device, precision)
        self._mel: np.ndarray | None = None
        self._fps = 25.0
        log.info("wav2lip engine: %s on %s (%s)", path.name, self.device, self.generator.precision)

    def prepare(self, speech: Speech, fps: float, n_frames: int) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self._mel = speech_mel(speech)
        self._fps = float(fps)

    def synthesize(self, frames: list[np.ndarray], faces: list[np.ndarray | None],
                   indices: list[int]) -> list[Patch | None]:
        if self._mel is None:
            raise RuntimeError("prepare(speech, fps, n_frames) must be called before synthesize")
        if not len(frames) == len(faces) == len(indices):
            raise ValueError(f"frames, faces and indices differ in length: "
                             f"{len(frames)}, {len(faces)}, {len(indices)}")
        patches: list[Patch | None] = [None] * len(frames)
        todo = []   # (position, box) of frames with a usable face
        for k, (frame, face) in enumerate(zip(frames, faces)):
            if face is None or not np.isfinite(face).all():
                continue
            box = crop_box(face, frame.shape, self.options)
            if box is not None:
                todo.append((k, box))
        step = self.options.batch_size
        for s in range(0, len(todo), step):
            chunk = todo[s:s + step]
            crops = np.stack([_crop(frames[k], box) for k, box in chunk])
            mel = mel_windows(self._mel, [indices[k] for k, _ in chunk], self._fps)
            generated = self.generator(crops, mel)
            for j, ((k, box), face96) in enumerate(zip(chunk, generated)):
                patches[k] = self._patch(np.asarray(faces[k], np.float32), box, face96, crops[j])
        return patches

    def _patch(self, face: np.ndarray, box, face96: np.ndarray, crop96: np.ndarray) -> Patch | None:
        x0, y0, x1, y1 = box
        w, h = x1 - x0, y1 - y0
        feather = feather_px(face, self.options)
        polygon = lower_face_polygon(face, box, feather)
        if polygon is None:
            return None
        mask = feathered_mask(polygon, box, feather)
        np.clip(mask, 0.0, 1.0, out=mask)   # the blur can overshoot 1 by a rounding error
        if self.options.color_match:
            # matched at the model's 96 px: the same colour statistics at a fraction of the cost of the box
            mask96 = cv2.resize(mask, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
            face96 = match_color(face96, crop96, mask96)
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        if rows.size == 0:
            return None
        pixels = cv2.resize(face96, (w, h), interpolation=cv2.INTER_LINEAR)
        # keep only the rows and columns the mask touches: less to blend, and the patch says where it acts
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        pixels, mask = pixels[r0:r1, c0:c1], mask[r0:r1, c0:c1]
        out_box = (x0 + int(c0), y0 + int(r0), x0 + int(c1), y0 + int(r1))
        return Patch(out_box, np.ascontiguousarray(pixels), np.ascontiguousarray(mask))


def feather_px(face: np.ndarray, options: LipSyncOptions) -> float:
    """Width of the mask's soft edge: ``options.mask_feather`` × the face width."""
    return options.mask_feather * float(np.ptp(face[:, 0]))


def crop_box(face: np.ndarray, shape, options: LipSyncOptions) -> tuple[int, int, int, int] | None:
    """The crop the model sees: the landmarks' extent (forehead to chin, cheek to cheek) plus the option
    pads, clipped to the frame. Below the chin it keeps at least 1.5 mask feathers, so the mask fades out
    under the chin rather than at the edge of the generated pixels. None when what is left inside the frame
    is too small to synthesise."""
    height, width = shape[:2]
    x0, y0, x1, y1 = face_box(face)
    x0, y0, x1, y1 = np.floor(x0), np.floor(y0), np.ceil(x1), np.ceil(y1)
    bottom = max(options.pad_bottom, int(np.ceil(1.5 * feather_px(face, options))))
    x0, x1 = max(0, int(x0) - options.pad_left), min(width, int(x1) + 1 + options.pad_right)
    y0, y1 = max(0, int(y0) - options.pad_top), min(height, int(y1) + 1 + bottom)
    if x1 - x0 < MIN_BOX or y1 - y0 < MIN_BOX:
        return None
    return x0, y0, x1, y1


def lower_face_polygon(face: np.ndarray, box, feather: float) -> np.ndarray | None:
    """Jaw line from cheek to cheek below the nose, closed across at the point under the nose [shape=(k, 2)].

    "Below" is measured along the face's own axis (nose bridge → chin), so a tilted head gets a tilted
    mask. ``feathered_mask`` fades to 0 at the polygon's edge, so the jaw points are pushed out by one
    feather: the mask is near full strength on the jaw line itself (an opening jaw moves the chin past it)
    and fades out below. The polygon is kept half a feather inside the box, where the blur's tail ends, so
    the mask is 0 before the generated pixels end."""
    axis = face[CHIN] - face[NOSE_BRIDGE[0]]
    axis = axis / max(float(np.hypot(*axis)), 1e-6)
    nose = face[SUBNASALE]
    oval = face[list(FACE_OVAL)]
    below = (oval - nose) @ axis > 0
    # FACE_OVAL starts at the forehead, so the part below the nose is one contiguous run: rotate it to start
    # where that run starts
    start = int(np.argmax(below & ~np.roll(below, 1)))
    order = np.roll(np.arange(len(FACE_OVAL)), -start)
    jaw = oval[order][below[order]]
    if len(jaw) < 3:   # no jaw below the nose: landmarks too distorted to place a mask
        return None
    centre = jaw.mean(axis=0)
    outward = jaw - centre
    outward /= np.maximum(np.linalg.norm(outward, axis=1, keepdims=True), 1e-6)
    jaw = jaw + outward * feather
    polygon = np.vstack([jaw, nose[None]])   # closed across through the point under the nose
    x0, y0, x1, y1 = box
    inset = min(feather / 2, (x1 - x0) / 4, (y1 - y0) / 4)
    polygon[:, 0] = np.clip(polygon[:, 0], x0 + inset, x1 - 1 - inset)
    polygon[:, 1] = np.clip(polygon[:, 1], y0 + inset, y1 - 1 - inset)
    return polygon.astype(np.float32)


def _crop(frame: np.ndarray, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    # INTER_AREA averages when shrinking a large face to 96 px instead of aliasing like a plain linear resize
    return cv2.resize(frame[y0:y1, x0:x1], (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
