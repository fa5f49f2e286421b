"""Wav2Lip checkpoints: reading the released files strictly (zip and legacy formats, ``module.`` stripped,
weights only), clear errors for anything else, and random checkpoints in the same layout for tests."""
from __future__ import annotations

import logging
import pickle
import re
import zipfile
from pathlib import Path

import torch
from torch import nn

from ...errors import CheckpointError
from .mel import MAX_ABS
from .net import FACE_SIZE, MEL_BINS, MEL_STEP, Wav2LipGenerator

log = logging.getLogger(__name__)


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
