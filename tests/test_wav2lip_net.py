"""The Wav2Lip generator: the released layout, strict loading, clear errors, exact fast paths."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from heygem_core.engines.wav2lip import fast as fast_path, net as wav2lip_net
from heygem_core.engines.wav2lip.checkpoint import load_generator, read_state_dict, save_random_checkpoint
from heygem_core.engines.wav2lip.fast import InferenceGenerator, native_bf16, onednn_blocks
from heygem_core.engines.wav2lip.net import Wav2LipGenerator, fuse_batchnorm
from heygem_core.errors import CheckpointError


@pytest.fixture(scope="module")
def generator(wav2lip_checkpoint) -> Wav2LipGenerator:
    return load_generator(wav2lip_checkpoint)


@pytest.fixture(scope="module")
def legacy_checkpoint(tmp_path_factory):
    return save_random_checkpoint(tmp_path_factory.mktemp("legacy") / "legacy.pth", legacy_format=True)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(7)
    crops = rng.integers(0, 256, (4, 96, 96, 3), dtype=np.uint8)
    mel = rng.uniform(-4, 4, (4, 1, 80, 16)).astype(np.float32)
    return crops, mel


def test_module_tree_matches_the_released_layout():
    model = Wav2LipGenerator()
    state = model.state_dict()
    assert len(state) == 352
    assert sum(p.numel() for p in model.parameters()) == 36_298_035
    assert state["face_encoder_blocks.0.0.conv_block.0.weight"].shape == (16, 6, 7, 7)
    assert "face_encoder_blocks.0.0.conv_block.1.running_mean" in state
    assert state["face_decoder_blocks.1.0.conv_block.0.weight"].shape == (1024, 512, 3, 3)  # transposed conv
    assert list(state)[-2:] == ["output_block.1.weight", "output_block.1.bias"]
    assert state["output_block.1.weight"].shape == (3, 32, 1, 1)


def test_forward_shapes_and_range(generator):
    with torch.inference_mode():
        out = generator(torch.rand(2, 1, 80, 16), torch.rand(2, 6, 96, 96))
    assert out.shape == (2, 3, 96, 96)
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_released_layout_loads_strictly(wav2lip_checkpoint, generator):
    raw = torch.load(wav2lip_checkpoint, map_location="cpu", weights_only=True)
    assert set(raw) == {"state_dict", "optimizer", "global_step", "global_epoch"}
    assert all(k.startswith("module.") for k in raw["state_dict"])
    loaded = generator.state_dict()
    for key, value in raw["state_dict"].items():
        assert torch.equal(loaded[key[len("module."):]], value), key
    # BatchNorm running statistics come from the file, not the defaults
    assert not torch.equal(loaded["audio_encoder.0.conv_block.1.running_var"], torch.ones(32))
    assert not generator.training


def test_legacy_format_and_bare_state_dict_load(tmp_path, generator, legacy_checkpoint):
    with open(legacy_checkpoint, "rb") as fh:
        assert fh.read(2) == b"\x80\x02"   # the pre-zip format of the 2020 release files
    assert len(read_state_dict(legacy_checkpoint)) == 352
    bare = tmp_path / "bare.pth"
    torch.save(generator.state_dict(), bare)
    model = load_generator(bare)
    assert torch.equal(model.state_dict()["output_block.1.bias"], generator.state_dict()["output_block.1.bias"])


def _error(path) -> str:
    with pytest.raises(CheckpointError) as info:
        load_generator(path)
    assert info.value.path == str(path)
    return info.value.reason


def test_not_a_checkpoint(tmp_path):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(np.random.default_rng(0).integers(1, 120, 4096, dtype=np.uint8).tobytes())
    assert "not a PyTorch checkpoint" in _error(garbage)
    html = tmp_path / "page.pth"   # what a broken download link often saves
    html.write_text("<!DOCTYPE html><html><body>Not Found</body></html>")
    assert "not a PyTorch checkpoint" in _error(html)
    pickle_like = tmp_path / "pickle_like.pth"
    pickle_like.write_bytes(b"\x80\x02" + bytes(range(256)) * 4)
    assert "not a" in _error(pickle_like) and "checkpoint" in _error(pickle_like)
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    assert "empty" in _error(empty)
    assert "no such file" in _error(tmp_path / "absent.pth")


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_truncated_file(tmp_path, wav2lip_checkpoint, legacy_checkpoint, legacy):
    data = (legacy_checkpoint if legacy else wav2lip_checkpoint).read_bytes()
    for cut in (len(data) // 3, len(data) - 1000):
        truncated = tmp_path / f"truncated_{cut}.pth"
        truncated.write_bytes(data[:cut])
        assert "truncated" in _error(truncated)


def test_wrong_architecture_counts_and_names_keys(tmp_path, generator):
    state = {f"module.{k}": v for k, v in generator.state_dict().items()}
    del state["module.output_block.1.weight"], state["module.output_block.1.bias"]
    state["module.extra_head.weight"] = torch.zeros(3)
    path = tmp_path / "other.pth"
    torch.save({"state_dict": state, "global_step": 1}, path)
    reason = _error(path)
    assert "wrong architecture" in reason
    assert "2 missing keys" in reason and "output_block.1.weight" in reason
    assert "1 unexpected key" in reason and "extra_head.weight" in reason


def test_shape_mismatch_names_the_tensor(tmp_path, generator):
    state = dict(generator.state_dict())
    state["audio_encoder.0.conv_block.0.weight"] = torch.zeros(32, 2, 3, 3)
    path = tmp_path / "shape.pth"
    torch.save({"state_dict": state}, path)
    reason = _error(path)
    assert "1 tensor of the wrong shape" in reason
    assert "audio_encoder.0.conv_block.0.weight is [32, 2, 3, 3] instead of [32, 1, 3, 3]" in reason


def test_syncnet_expert_is_recognised(tmp_path):
    state = {"face_encoder.0.conv_block.0.weight": torch.zeros(32, 15, 7, 7),
             "audio_encoder.0.conv_block.0.weight": torch.zeros(32, 1, 3, 3)}
    path = tmp_path / "lipsync_expert.pth"
    torch.save({"state_dict": state}, path)
    assert "SyncNet" in _error(path)


class _Opaque:   # an arbitrary class: unpickling it could run code, so the safe loader refuses it
    pass


def test_python_objects_are_not_unpickled_by_default(tmp_path, generator):
    path = tmp_path / "with_object.pth"
    torch.save({"state_dict": generator.state_dict(), "hparams": _Opaque()}, path)
    assert "--allow-pickle" in _error(path)
    assert len(load_generator(path, allow_pickle=True).state_dict()) == 352


def test_batchnorm_folding_is_exact(generator):
    import copy

    x, mel = torch.rand(3, 6, 96, 96), torch.rand(3, 1, 80, 16) * 8 - 4
    fused = fuse_batchnorm(copy.deepcopy(generator))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    with torch.inference_mode():
        expected = generator(mel, x)
        got = fused.to(memory_format=torch.channels_last)(mel.contiguous(memory_format=torch.channels_last),
                                                          x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="PyTorch built without oneDNN")
def test_onednn_blocks_are_exact(generator):
    import copy

    fused = fuse_batchnorm(copy.deepcopy(generator)).to(memory_format=torch.channels_last)
    blocks = onednn_blocks(copy.deepcopy(fused))
    assert not any(isinstance(m, (wav2lip_net.Conv, wav2lip_net.Up)) for m in blocks.modules())
    x = torch.rand(3, 6, 96, 96).contiguous(memory_format=torch.channels_last)
    mel = (torch.rand(3, 1, 80, 16) * 8 - 4).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        assert torch.allclose(blocks(mel, x), generator(mel, x), atol=1e-5)
    with pytest.raises(ValueError, match="fuse_batchnorm"):
        onednn_blocks(copy.deepcopy(generator))


def _eager_reference(model, crops, mel) -> np.ndarray:
    """The model input built by hand from the published recipe, run through the plain eager model."""
    face = crops.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    masked = face.copy()
    masked[:, :, 48:] = 0.0
    x = torch.from_numpy(np.concatenate([masked, face], axis=1))
    with torch.inference_mode():
        out = model(torch.from_numpy(mel), x).numpy()
    return out.transpose(0, 2, 3, 1) * 255.0


@pytest.mark.parametrize("fused_kernels", [False, True], ids=["eager", "onednn"])
def test_inference_fp32_matches_eager(wav2lip_checkpoint, generator, batch, fused_kernels):
    crops, mel = batch
    fast = InferenceGenerator(load_generator(wav2lip_checkpoint), "cpu", "fp32", fused_kernels=fused_kernels)
    if fused_kernels and torch.backends.mkldnn.is_available():
        assert fast.kernels == "onednn"
    out = fast(crops, mel)
    assert out.shape == (4, 96, 96, 3) and out.dtype == np.uint8
    assert np.abs(out - _eager_reference(generator, crops, mel)).max() <= 0.5 + 1e-3   # rounding only
    assert np.array_equal(fast(crops, mel), out)


@pytest.mark.skipif(not native_bf16(), reason="this CPU has no native bfloat16")
def test_bf16_path_is_kept_only_within_tolerance(wav2lip_checkpoint, generator, batch, monkeypatch):
    crops, mel = batch
    reference = _eager_reference(generator, crops, mel)
    fast = InferenceGenerator(load_generator(wav2lip_checkpoint), "cpu", "bf16")
    assert not fast.checked
    first = fast(crops, mel)     # checked against fp32 on this first batch, which is returned exactly
    assert fast.precision == "bf16" and fast.checked
    assert np.abs(first - reference).max() <= 0.5 + 1e-3
    second = fast(crops, mel).astype(np.float32)
    assert np.abs(second - reference).max() <= 255 * fast_path.MAX_DEVIATION + 0.5
    assert np.abs(second - reference).mean() <= 255 * fast_path.MEAN_DEVIATION + 0.5

    monkeypatch.setattr(fast_path, "MAX_DEVIATION", 0.0)   # a checkpoint that would not tolerate bf16
    strict = InferenceGenerator(load_generator(wav2lip_checkpoint), "cpu", "bf16")
    strict(crops, mel)
    assert (strict.precision, strict.kernels) == ("fp32", "eager")
    assert np.abs(strict(crops, mel) - reference).max() <= 0.5 + 1e-3


@pytest.mark.parametrize("fused_kernels", [False, True], ids=["eager", "onednn"])
def test_random_checkpoint_output_follows_the_audio(generator, batch, fused_kernels):
    """The test generator is no flat grey: off the sigmoid's rails, and a loud mel window moves its output from
    the silent one's by whole 8-bit levels, on the exact first batch and on the fast path after it."""
    import copy

    crops, _ = batch
    face = np.repeat(crops[:1], 2, axis=0)
    mel = np.full((2, 1, 80, 16), -4.0, np.float32)   # silence …
    mel[1, 0, 10:40] = 2.0                             # … and a loud low band
    fast = InferenceGenerator(copy.deepcopy(generator), "cpu", "fp32", fused_kernels=fused_kernels)
    for out in (fast(face, mel), fast(face, mel)):
        assert np.mean((out == 0) | (out == 255)) < 0.01
        assert np.abs(out[0].astype(np.int16) - out[1]).max() >= 3
