"""The Wav2Lip generator: the module tree of the published checkpoints (loading them: `checkpoint`; the fast
CPU/GPU inference path: `fast`).

The attribute names below are not free choices: they spell the published state_dict keys
(``face_encoder_blocks.0.0.conv_block.0.weight`` …), so a released ``wav2lip.pth`` or ``wav2lip_gan.pth``
loads with a strict key and shape match. 352 entries, 36,298,035 parameters.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

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
