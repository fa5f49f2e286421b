"""Fast Wav2Lip inference: BatchNorm folded, fused oneDNN blocks, channels-last, bf16 on CPUs that have it and
fp16 on CUDA, each reduced-precision path kept only while it matches fp32 on the first real batch."""
from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from .net import FACE_SIZE, MEL_BINS, MEL_STEP, Conv, Up, Wav2LipGenerator, fuse_batchnorm

log = logging.getLogger(__name__)


# A reduced-precision path is kept only when its output stays this close to fp32 on the first real batch.
MAX_DEVIATION = 3 / 255      # largest per-pixel difference, in output units ([0, 1])
MEAN_DEVIATION = 0.5 / 255   # mean per-pixel difference


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX512-BF16 or AMX); elsewhere bf16 is emulated, slow."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class _OneDNNBlock(nn.Module):
    """A BatchNorm-folded Conv or Up block as one oneDNN kernel: convolution (+ residual add) + ReLU fused.

    Eager PyTorch runs the add and the ReLU as separate passes over memory; fused, they happen while the
    convolution's output is still in cache. These are the kernels PyTorch's own compiler emits on CPU."""

    def __init__(self, block: nn.Module):
        super().__init__()
        conv = block.conv_block[0]
        self.weight, self.bias = conv.weight, conv.bias
        self.transposed = isinstance(conv, nn.ConvTranspose2d)
        self.residual = bool(getattr(block, "residual", False))
        self.padding, self.stride = list(conv.padding), list(conv.stride)
        self.dilation = list(conv.dilation)
        self.output_padding = list(conv.output_padding) if self.transposed else []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ops = torch.ops.mkldnn
        if self.transposed:
            return ops._convolution_transpose_pointwise(x, self.weight, self.bias, self.padding,
                                                        self.output_padding, self.stride, self.dilation, 1,
                                                        "relu", [], "")
        if self.residual:
            return ops._convolution_pointwise.binary(x, x, self.weight, self.bias, self.padding, self.stride,
                                                     self.dilation, 1, "add", None, "relu", [], "")
        return ops._convolution_pointwise(x, self.weight, self.bias, self.padding, self.stride, self.dilation,
                                          1, "relu", [], "")


def onednn_blocks(model: nn.Module) -> nn.Module:
    """Replace, in place, every (BatchNorm-folded) Conv and Up block with a fused oneDNN kernel. CPU only."""
    for name, child in model.named_children():
        if isinstance(child, (Conv, Up)):
            if len(child.conv_block) != 1:
                raise ValueError("fold BatchNorm (fuse_batchnorm) before onednn_blocks")
            setattr(model, name, _OneDNNBlock(child))
        else:
            onednn_blocks(child)
    return model


def _onednn_works(model: nn.Module, dtype: torch.dtype) -> bool:
    """Whether this PyTorch build runs the fused kernels and they agree with the eager blocks on a small input."""
    import copy

    if not torch.backends.mkldnn.is_available():
        return False
    try:
        candidate = onednn_blocks(copy.deepcopy(model))
        g = torch.Generator().manual_seed(0)
        a = (torch.rand(2, 1, MEL_BINS, MEL_STEP, generator=g) * 8 - 4).to(dtype)
        x = torch.rand(2, 6, FACE_SIZE, FACE_SIZE, generator=g).to(dtype)
        a, x = (t.contiguous(memory_format=torch.channels_last) for t in (a, x))
        with torch.inference_mode():
            diff = (candidate(a, x).float() - model(a, x).float()).abs().max().item()
    except (RuntimeError, AttributeError, TypeError) as exc:   # op missing or changed in this build
        log.debug("oneDNN fused kernels unavailable: %s", exc)
        return False
    return diff <= (1e-4 if dtype == torch.float32 else 2e-2)


class InferenceGenerator:
    """The generator prepared for fast batched inference on one device.

    Exact rewrites first: BatchNorm folded into the convolutions, activations channels-last, and on CPU each
    conv (+ residual add) + ReLU run as one fused oneDNN kernel. ``precision`` "auto" adds a lower-precision
    path where it is fast: fp16 on CUDA, bf16 on CPUs with native bf16. Whatever differs from plain fp32 is
    checked against it on the first batch (which is answered in exact fp32) and dropped if it deviates by
    more than MAX_DEVIATION / MEAN_DEVIATION, so a checkpoint that does not tolerate it still runs exactly.

    Call with crops [shape=(B, 96, 96, 3), uint8 BGR] and mel windows [shape=(B, 1, 80, 16), float32];
    returns the generated faces [shape=(B, 96, 96, 3), uint8 BGR]."""

    def __init__(self, model: Wav2LipGenerator, device: str | torch.device = "cpu", precision: str = "auto", *,
                 fused_kernels: bool = True):
        import copy

        self.device = torch.device(device)
        if precision == "auto":
            precision = "fp16" if self.device.type == "cuda" else "bf16" if native_bf16() else "fp32"
        if precision not in ("fp32", "bf16", "fp16"):
            raise ValueError(f"precision must be auto, fp32, bf16 or fp16, not {precision!r}")
        self.precision = precision
        dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        self._exact = fuse_batchnorm(model.eval()).to(self.device, memory_format=torch.channels_last)
        fast = self._exact if dtype == torch.float32 else copy.deepcopy(self._exact).to(dtype)
        self.kernels = "eager"
        if fused_kernels and self.device.type == "cpu" and _onednn_works(fast, dtype):
            fast = onednn_blocks(fast if fast is not self._exact else copy.deepcopy(fast))
            self.kernels = "onednn"
        self._fast = fast
        self._dtype = dtype
        self.checked = fast is self._exact

    def __call__(self, crops: np.ndarray, mel: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            face = torch.from_numpy(crops).to(self.device).permute(0, 3, 1, 2).float().div_(255)
            masked = face.clone()
            masked[:, :, FACE_SIZE // 2:] = 0  # the model redraws the lower half from the audio
            x = torch.cat((masked, face), dim=1).contiguous(memory_format=torch.channels_last)
            a = torch.from_numpy(mel).to(self.device).contiguous(memory_format=torch.channels_last)
            out = self._run(self._fast, x, a) if self.checked else self._check(x, a)
            pixels = out.mul_(255).round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
            return pixels.cpu().numpy()

    def _run(self, model, x, a):
        if model is self._exact:
            return model(a, x)
        return model(a.to(self._dtype), x.to(self._dtype)).float()

    def _check(self, x, a):
        exact = self._run(self._exact, x, a)
        diff = (self._run(self._fast, x, a) - exact).abs()
        worst, mean = diff.max().item(), diff.mean().item()
        path = f"{self.precision}/{self.kernels}"
        if worst <= MAX_DEVIATION and mean <= MEAN_DEVIATION:
            log.info("Wav2Lip %s path kept: max deviation %.4f, mean %.5f from fp32", path, worst, mean)
            self._exact = None   # not needed any more
        else:
            log.warning("Wav2Lip %s path dropped (max deviation %.4f, mean %.5f from fp32): running plain fp32",
                        path, worst, mean)
            self._fast, self.precision, self.kernels = self._exact, "fp32", "eager"
        self.checked = True
        return exact
