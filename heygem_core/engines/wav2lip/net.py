"""The Wav2Lip generator: the module tree of the published checkpoints, and loading them strictly.

The attribute names below are not free choices: they spell the published state_dict keys
(``face_encoder_blocks.0.0.conv_block.0.weight`` …), so a released ``wav2lip.pth`` or ``wav2lip_gan.pth``
loads with a strict key and shape match. 352 entries, 36,298,035 parameters.
"""
from __future__ import annotations

import logging
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ...errors import CheckpointError
from .mel import MAX_ABS

log = logging.getLogger(__name__)

N_STATE_ENTRIES = 352
N_PARAMETERS = 36_298_035
FACE_SIZE = 96       # the model's face crop is 96×96
MEL_BINS, MEL_STEP = 80, 16


class Conv(nn.Module):
    """Conv2d + BatchNorm + ReLU, optionally with a residual connection around the conv."""

    def __init__(self, cin: int, cout: int, k: int, s, p: int, residual: bool = False):
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(cin, cout, k, s, p), nn.BatchNorm2d(cout))
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_block(x)
        if self.residual:
            out += x   # in place: these memory-bound steps cost a third of the bf16 time otherwise
        return out.relu_()


class Up(nn.Module):
    """ConvTranspose2d + BatchNorm + ReLU."""

    def __init__(self, cin: int, cout: int, k: int, s: int, p: int, output_padding: int = 0):
        super().__init__()
        self.conv_block = nn.Sequential(nn.ConvTranspose2d(cin, cout, k, s, p, output_padding),
                                        nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_block(x).relu_()


def _res(c: int) -> Conv:
    return Conv(c, c, 3, 1, 1, residual=True)


class Wav2LipGenerator(nn.Module):
    """Generator: (face (B, 6, 96, 96), mel (B, 1, 80, 16)) → mouth-synced face (B, 3, 96, 96) in [0, 1].

    The face input is [crop with its lower half zeroed, the reference crop], BGR, scaled to [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        S = nn.Sequential
        self.face_encoder_blocks = nn.ModuleList([
            S(Conv(6, 16, 7, 1, 3)),                                            # 96
            S(Conv(16, 32, 3, 2, 1), _res(32), _res(32)),                       # 48
            S(Conv(32, 64, 3, 2, 1), _res(64), _res(64), _res(64)),             # 24
            S(Conv(64, 128, 3, 2, 1), _res(128), _res(128)),                    # 12
            S(Conv(128, 256, 3, 2, 1), _res(256), _res(256)),                   # 6
            S(Conv(256, 512, 3, 2, 1), _res(512)),                              # 3
            S(Conv(512, 512, 3, 1, 0), Conv(512, 512, 1, 1, 0)),                # 1
        ])
        self.audio_encoder = S(
            Conv(1, 32, 3, 1, 1), _res(32), _res(32),
            Conv(32, 64, 3, (3, 1), 1), _res(64), _res(64),
            Conv(64, 128, 3, 3, 1), _res(128), _res(128),
            Conv(128, 256, 3, (3, 2), 1), _res(256),
            Conv(256, 512, 3, 1, 0), Conv(512, 512, 1, 1, 0),
        )
        self.face_decoder_blocks = nn.ModuleList([
            S(Conv(512, 512, 1, 1, 0)),                                         # 1, + enc6 → 1024
            S(Up(1024, 512, 3, 1, 0), _res(512)),                               # 3, + enc5 → 1024
            S(Up(1024, 512, 3, 2, 1, 1), _res(512), _res(512)),                 # 6, + enc4 → 768
            S(Up(768, 384, 3, 2, 1, 1), _res(384), _res(384)),                  # 12, + enc3 → 512
            S(Up(512, 256, 3, 2, 1, 1), _res(256), _res(256)),                  # 24, + enc2 → 320
            S(Up(320, 128, 3, 2, 1, 1), _res(128), _res(128)),                  # 48, + enc1 → 160
            S(Up(160, 64, 3, 2, 1, 1), _res(64), _res(64)),                     # 96, + enc0 → 80
        ])
        self.output_block = S(Conv(80, 32, 3, 1, 1), nn.Conv2d(32, 3, 1, 1, 0), nn.Sigmoid())

    def forward(self, mel: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        x = self.audio_encoder(mel)
        skips = []
        f = face
        for block in self.face_encoder_blocks:
            f = block(f)
            skips.append(f)
        for block in self.face_decoder_blocks:
            x = torch.cat((block(x), skips.pop()), dim=1)
        return self.output_block(x)


def fuse_batchnorm(model: Wav2LipGenerator) -> Wav2LipGenerator:
    """Fold every BatchNorm into the convolution before it, in place (eval mode only).

    In eval mode BatchNorm is a fixed per-channel affine map, so folding it into the conv's weights and bias
    is an exact rewrite (up to float rounding) that saves one full pass over every activation.
    The fused model no longer has the published state_dict layout: fuse after loading."""
    if model.training:
        raise ValueError("fuse_batchnorm needs a model in eval mode")
    for module in model.modules():
        if isinstance(module, (Conv, Up)) and len(module.conv_block) == 2:
            conv, bn = module.conv_block
            fused = fuse_conv_bn_eval(conv, bn, transpose=isinstance(conv, nn.ConvTranspose2d))
            module.conv_block = nn.Sequential(fused)
    return model


# -- loading ---------------------------------------------------------------------------------------------

_ZIP_MAGIC = b"PK\x03\x04"


def read_state_dict(path: str | Path, *, allow_pickle: bool = False) -> dict[str, torch.Tensor]:
    """The generator weights inside a checkpoint file, ``module.`` prefixes stripped.

    Accepts the released layout (``{"state_dict": ..., "optimizer": ..., "global_step": ...}``) and a bare
    state_dict. Only tensors and plain data are unpickled unless ``allow_pickle`` (arbitrary code can run
    when unpickling a file: only for files whose source the user trusts).
    Raises CheckpointError: missing, not a checkpoint, truncated, or no weights inside."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no such file" if not path.exists() else "not a file")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if not head:
        raise CheckpointError(path, "empty file, not a checkpoint")
    is_zip = head == _ZIP_MAGIC
    if is_zip and not zipfile.is_zipfile(path):
        raise CheckpointError(path, "truncated or damaged checkpoint (its zip archive has no end record); "
                                    "download it again")
    if not is_zip and head[:1] != b"\x80":  # neither a zip-format nor a legacy (pickle) torch file
        raise CheckpointError(path, "not a PyTorch checkpoint (unrecognised file header)")
    # mmap leaves the optimizer state (about 2/3 of a released file) on disk instead of in memory
    kwargs = {"map_location": "cpu", "mmap": True} if is_zip else {"map_location": "cpu"}
    try:
        data = torch.load(path, weights_only=not allow_pickle, **kwargs)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if found:
            raise CheckpointError(
                path, f"holds a Python object ({found.group(1)}) besides weights, which is not loaded by "
                      "default; if you trust where the file came from, register it with "
                      "`heygem weights add PATH --allow-pickle`") from None
        raise CheckpointError(path, "not a PyTorch checkpoint (unreadable data)") from None
    except EOFError:
        raise CheckpointError(path, "truncated checkpoint (file ends early); download it again") from None
    except (RuntimeError, ValueError, OSError, AttributeError, ImportError, IndexError, KeyError,
            TypeError) as exc:
        text = str(exc)
        if "EOF" in text or "end of file" in text.lower() or "truncat" in text.lower():
            raise CheckpointError(path, "truncated checkpoint (file ends early); download it again") from None
        raise CheckpointError(path, f"not a readable PyTorch checkpoint ({_short(exc)})") from None
    state = data.get("state_dict", data) if isinstance(data, dict) else None
    if not isinstance(state, dict) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise CheckpointError(path, "no generator weights inside (expected a dict with a 'state_dict' of "
                                    "tensors)")
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def check_state_dict(state: dict[str, torch.Tensor], path: str | Path) -> None:
    """Raise CheckpointError unless ``state`` has exactly the generator's keys and shapes."""
    with torch.device("meta"):   # shapes only: no memory, no random initialisation
        expected = {k: tuple(v.shape) for k, v in Wav2LipGenerator().state_dict().items()}
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{_count(missing, 'missing key')}, e.g. {', '.join(missing[:3])}")
        if unexpected:
            parts.append(f"{_count(unexpected, 'unexpected key')}, e.g. {', '.join(unexpected[:3])}")
        raise CheckpointError(path, "wrong architecture, not a Wav2Lip generator: " + "; ".join(parts)
                              + _hint(state))
    wrong = [(k, tuple(state[k].shape), shape) for k, shape in expected.items() if tuple(state[k].shape) != shape]
    if wrong:
        examples = ", ".join(f"{k} is {list(got)} instead of {list(want)}" for k, got, want in wrong[:3])
        raise CheckpointError(path, f"wrong architecture: {_count(wrong, 'tensor')} of the wrong shape, e.g. "
                                    f"{examples}")


def load_generator(path: str | Path, device: str | torch.device = "cpu", *,
                   allow_pickle: bool = False) -> Wav2LipGenerator:
    """A Wav2Lip generator with the weights of ``path``, in eval mode on ``device`` (fp32).

    Strict: every key and shape of the published layout must be present and nothing else; BatchNorm
    running statistics come from the file. Raises CheckpointError naming the file and the reason."""
    state = read_state_dict(path, allow_pickle=allow_pickle)
    check_state_dict(state, path)
    model = Wav2LipGenerator()
    model.load_state_dict(state, strict=True)
    del state
    log.debug("loaded Wav2Lip generator from %s", path)
    return model.eval().to(device)


def _hint(state: dict) -> str:
    keys = list(state)
    if any(k.startswith("face_encoder.") for k in keys) and any(k.startswith("audio_encoder.") for k in keys) \
            and not any(k.startswith("face_decoder_blocks.") for k in keys):
        return " (this looks like the SyncNet lip-sync expert, lipsync_expert.pth; use wav2lip.pth or " \
               "wav2lip_gan.pth)"
    if keys and all(k.startswith(("face_encoder_blocks.", "binary_pred.")) for k in keys):
        return " (this looks like the visual-quality discriminator; use wav2lip.pth or wav2lip_gan.pth)"
    return ""


def _count(items, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _short(exc: BaseException, limit: int = 160) -> str:
    text = f"{exc.__class__.__name__}: {exc}".splitlines()[0]
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- inference --------------------------------------------------------------------------------------------

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


# The spread of the random generator's output before its sigmoid (save_random_checkpoint): wide enough that the
# audio window moves the 8-bit output by several levels, narrow enough that bf16 stays within MAX_DEVIATION.
RANDOM_LOGIT_STD = 0.015


def save_random_checkpoint(path: str | Path, *, seed: int = 0, legacy_format: bool = False) -> Path:
    """Write a randomly initialised generator in the released file layout, for tests and benchmarks.

    Same keys (``module.`` prefixed), shapes and container as ``wav2lip.pth`` (state_dict, optimizer state,
    global_step, global_epoch). The BatchNorm running statistics are measured on random model inputs, as
    training leaves them, so every layer works at unit scale, and the last convolution is scaled to keep the
    sigmoid off its rails (``_calibrate``). With PyTorch's default initialisation and made-up statistics the
    audio's share shrinks about 4x per decoder block: the output is a flat grey that the audio window moves
    by ~1e-7, far below one 8-bit level. BatchNorm scales and shifts are perturbed away from their identity
    defaults, so that folding them is exercised. The optimizer holds Adam moments
    for two tensors only, to keep the file at ~146 MB.
    ``legacy_format`` writes the pre-zip torch format the 2020 release files use."""
    path = Path(path)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = Wav2LipGenerator()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                module.weight.copy_(1 + 0.1 * torch.randn(n, generator=gen))
                module.bias.copy_(0.1 * torch.randn(n, generator=gen))
                module.momentum = None   # a cumulative average: one batch sets the statistics outright
                module.reset_running_stats()
        _calibrate(model, gen)
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = 0.1
                module.num_batches_tracked.fill_(1000)
    model.eval()
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    params = list(model.parameters())
    optimizer = {
        "state": {i: {"step": torch.tensor(1000.0), "exp_avg": torch.zeros_like(params[i]),
                      "exp_avg_sq": torch.zeros_like(params[i])} for i in (0, 1)},
        "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False,
                          "params": list(range(len(params)))}],
    }
    torch.save({"state_dict": state, "optimizer": optimizer, "global_step": 1000, "global_epoch": 1}, path,
               _use_new_zipfile_serialization=not legacy_format)
    return path


def _calibrate(model: Wav2LipGenerator, gen: torch.Generator, batch: int = 8) -> None:
    """Set every BatchNorm's running statistics to those of one batch of random inputs (smooth random faces
    with the lower half zeroed, as at inference; mel windows of noise, held spectra and silence), then scale
    the last convolution so that what enters the sigmoid spreads by RANDOM_LOGIT_STD on that batch."""
    coarse = torch.rand(batch, 3, 6, 6, generator=gen)
    face = nn.functional.interpolate(coarse, size=(FACE_SIZE, FACE_SIZE), mode="bilinear", align_corners=False)
    face = (face + 0.05 * torch.randn(face.shape, generator=gen)).clamp_(0, 1)
    masked = face.clone()
    masked[:, :, FACE_SIZE // 2:] = 0
    mel = torch.rand(batch, 1, MEL_BINS, MEL_STEP, generator=gen) * 8 - 4
    held = torch.rand(batch, 1, MEL_BINS, 1, generator=gen) * 8 - 4
    mel[batch // 2:] = held[batch // 2:].expand(-1, -1, -1, MEL_STEP)
    mel[-1] = -MAX_ABS   # silence: the normalised floor
    logits = []
    last = model.output_block[1]
    hook = last.register_forward_hook(lambda module, inputs, output: logits.append(output))
    try:
        model.train()
        model(mel, torch.cat((masked, face), dim=1))
    finally:
        hook.remove()
        model.eval()
    scale = RANDOM_LOGIT_STD / logits[0].std().item()
    last.weight.mul_(scale)
    last.bias.mul_(scale)
