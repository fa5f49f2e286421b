"""Frames kept in the decoder's own YUV 4:2:0 form, turned into BGR only where something looks at them.

A lip sync changes a few per cent of each frame, yet a BGR pipeline converts every whole frame twice (YUV to
BGR after decoding, back before encoding). A `PlanarFrame` holds the decoded planes; the tracker and the
engines read BGR regions of it (``frame[y0:y1, x0:x1]``: exactly the pixels a whole-frame conversion gives
there), and `paste` blends a patch back into the planes. Every pixel the patch's mask leaves at 0 keeps its
decoded value bit for bit, and the encoder takes the planes as they are.

Only the common case is taken this way: 8-bit 4:2:0, limited range, BT.709 (tagged, or untagged at 720
lines and up, which players read as BT.709), even width and height, not rotated. `FrameReader` hands out
plain BGR arrays for everything else, so every consumer also takes those.
"""
from __future__ import annotations

import av
import cv2
import numpy as np

from .yuv import _BT709, _COLORSPACES, _UNSPECIFIED, _assume_hd, _matrix, _plane

_LIMITED = 1          # AVCOL_RANGE_MPEG
_BGR_TO_YUV: np.ndarray | None = None


def planar_ok(frame: av.VideoFrame) -> bool:
    """Whether ``frame`` can travel as a `PlanarFrame` (see the module docstring)."""
    if frame.format.name != "yuv420p" or frame.width % 2 or frame.height % 2:
        return False
    if frame.color_range not in (None, 0, _LIMITED):
        return False
    cs = frame.colorspace
    if cs in (None, _UNSPECIFIED):
        return _assume_hd(frame)
    return _COLORSPACES.get(cs) == _BT709


class PlanarFrame:
    """One ``height`` x ``width`` frame as I420 planes; reads like a BGR image where it is read.

    ``yuv`` [shape=(height * 3 // 2, width), uint8]: the Y plane, then U and V, each a quarter of it.
    """

    ndim = 3
    dtype = np.dtype(np.uint8)

    def __init__(self, yuv: np.ndarray, width: int, height: int):
        if yuv.shape != (height * 3 // 2, width) or yuv.dtype != np.uint8 or width % 2 or height % 2:
            raise ValueError(f"expected ({height * 3 // 2}, {width}) uint8 I420 planes, got {yuv.shape}")
        self.yuv = yuv
        self.width, self.height = int(width), int(height)
        self.shape = (self.height, self.width, 3)

    @classmethod
    def from_video_frame(cls, frame: av.VideoFrame) -> "PlanarFrame":
        w, h = frame.width, frame.height
        yuv = np.empty((h * 3 // 2, w), np.uint8)
        yuv[:h] = _plane(frame, 0)
        yuv[h:].reshape(2, h // 2, w // 2)[0] = _plane(frame, 1)
        yuv[h:].reshape(2, h // 2, w // 2)[1] = _plane(frame, 2)
        return cls(yuv, w, h)

    @property
    def nbytes(self) -> int:
        return self.yuv.nbytes

    @property
    def planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Views of Y [shape=(h, w)], U and V [shape=(h/2, w/2)]."""
        h, w = self.height, self.width
        chroma = self.yuv[h:].reshape(2, h // 2, w // 2)
        return self.yuv[:h], chroma[0], chroma[1]

    def __getitem__(self, key) -> np.ndarray:
        """``frame[y0:y1, x0:x1]``: a new BGR array of that region (steps of 1 only)."""
        if not isinstance(key, tuple):
            key = (key, slice(None))
        ys, xs = (k if isinstance(k, slice) else slice(k, k + 1) for k in key[:2])
        (y0, y1, sy), (x0, x1, sx) = ys.indices(self.height), xs.indices(self.width)
        if sy != 1 or sx != 1:
            raise IndexError("a PlanarFrame region takes slices with step 1")
        image = self.bgr(x0, y0, max(x0, x1), max(y0, y1))
        return image[..., key[2]] if len(key) > 2 else image

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        image = self.bgr(0, 0, self.width, self.height)
        return image if dtype is None else image.astype(dtype)

    def bgr(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """BGR pixels of the region, identical to a whole-frame conversion's pixels there (the chroma
        is upsampled with a margin, so the region's edges see the same neighbours)."""
        if x1 <= x0 or y1 <= y0:
            return np.zeros((max(0, y1 - y0), max(0, x1 - x0), 3), np.uint8)
        Y, U, V = self.planes
        # chroma rows/columns around the region, one more each side where the frame has them
        cx0, cy0 = max(x0 // 2 - 1, 0), max(y0 // 2 - 1, 0)
        cx1, cy1 = min((x1 + 1) // 2 + 1, self.width // 2), min((y1 + 1) // 2 + 1, self.height // 2)
        # doubled as the whole plane's bilinear doubling doubles it: inside the margin the neighbours are
        # the same, and where the region meets the frame's edge the plane's edge is the region's
        up = [cv2.resize(p[cy0:cy1, cx0:cx1], (2 * (cx1 - cx0), 2 * (cy1 - cy0)), interpolation=cv2.INTER_LINEAR)
              for p in (U, V)]
        ox, oy = x0 - 2 * cx0, y0 - 2 * cy0
        u, v = (c[oy: oy + y1 - y0, ox: ox + x1 - x0] for c in up)
        return cv2.transform(cv2.merge([Y[y0:y1, x0:x1], u, v]), _matrix(_BT709, False))

    def paste(self, box, pixels: np.ndarray, mask: np.ndarray) -> None:
        """Blend BGR ``pixels`` into the region ``box = (x0, y0, x1, y1)`` by ``mask`` (0..1), in place.

        The change the blend makes in BGR is carried into the planes as a change in Y, U and V (U and V
        averaged over each 2x2 block): where the mask is 0 nothing changes, bit for bit."""
        rows, cols = np.nonzero(mask.max(axis=1) > 0)[0], np.nonzero(mask.max(axis=0) > 0)[0]
        if rows.size == 0:
            return
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1    # only where the mask acts
        x0, y0 = box[0] + c0, box[1] + r0
        x1, y1 = box[0] + c1, box[1] + r1
        old = self.bgr(x0, y0, x1, y1)
        m = np.ascontiguousarray(mask[r0:r1, c0:c1], dtype=np.float32)
        new = cv2.blendLinear(np.ascontiguousarray(pixels[r0:r1, c0:c1]), old, m, 1.0 - m)
        diff = cv2.subtract(new, old, dtype=cv2.CV_32F)          # exact: small whole numbers
        if not diff.any():
            return
        # the change in Y, U, V, each plane on its own (whole rows for numpy's loops); a rounded change
        # added to a plane and saturated to 0..255 (cv2.add into uint8: the same values as clipping)
        dy, du, dv = cv2.split(cv2.transform(diff, _bgr_to_yuv()))
        Y, U, V = self.planes
        Y[y0:y1, x0:x1] = cv2.add(Y[y0:y1, x0:x1], np.rint(dy, out=dy), dtype=cv2.CV_8U)
        # chroma: the mean change over each 2x2 block the region touches (a region on odd edges is padded
        # with zero change)
        bx0, by0, bx1, by1 = x0 // 2, y0 // 2, (x1 + 1) // 2, (y1 + 1) // 2
        for plane, d in ((U, du), (V, dv)):
            pad = np.zeros((2 * (by1 - by0), 2 * (bx1 - bx0)), np.float32)
            pad[y0 - 2 * by0: y0 - 2 * by0 + y1 - y0, x0 - 2 * bx0: x0 - 2 * bx0 + x1 - x0] = d
            block = pad[0::2, 0::2] + pad[1::2, 0::2]
            block += pad[0::2, 1::2]
            block += pad[1::2, 1::2]
            block *= 0.25
            plane[by0:by1, bx0:bx1] = cv2.add(plane[by0:by1, bx0:bx1], np.rint(block, out=block), dtype=cv2.CV_8U)

    def video_frame(self) -> av.VideoFrame:
        """A new yuv420p `av.VideoFrame` of the planes, tagged BT.709 limited range."""
        vf = av.VideoFrame.from_ndarray(self.yuv, format="yuv420p")
        vf.colorspace, vf.color_range = 1, _LIMITED
        return vf


def _bgr_to_yuv() -> np.ndarray:
    """3x3 matrix taking a change in [B, G, R] to the change in [Y, U, V] (BT.709, limited range): the
    inverse of the matrix the frames are read with."""
    global _BGR_TO_YUV
    if _BGR_TO_YUV is None:
        _BGR_TO_YUV = np.linalg.inv(_matrix(_BT709, False)[:, :3])
    return _BGR_TO_YUV
