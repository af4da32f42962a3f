"""Small PyTorch models for the importer's tests: together they use every module and
function the importer knows, in module and in functional form. Each factory takes no
argument (``tests.torch_models:conv_net`` works on the command line)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

INPUTS = {
    "conv_net": (3, 24, 24),
    "functional_net": (4, 16, 16),
    "transformer": (3, 16, 16),
    "attention_net": (8, 12),
    "window_net": (16, 8, 8),
    "volume_net": (2, 6, 10, 10),
    "signal_net": (3, 40),
    "aux_net": (3, 16, 16),
    "functional_more_net": (6, 12, 12),
    "unknown_op_net": (3, 8, 8),
    "computed_widths_net": (3, 16, 16),
    "item_in_init_net": (3, 8, 8),
}


def conv_net() -> nn.Module:
    """Modules: convolutions (same, groups, dilation, transposed), norms, activations, pools."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding="same"),
        nn.BatchNorm2d(8),
        nn.ReLU(inplace=True),
        nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=4, bias=False),
        nn.GroupNorm(2, 8),
        nn.LeakyReLU(0.2),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1),
        nn.InstanceNorm2d(6, affine=True),
        nn.PReLU(6),
        nn.ZeroPad2d((1, 0, 2, 1)),
        nn.AvgPool2d(2, count_include_pad=False),
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.LocalResponseNorm(3),
        nn.Conv2d(6, 12, 1, padding_mode="reflect"),
        nn.GELU(),
        nn.SiLU(),
        nn.Hardswish(),
        nn.ELU(),
        nn.Dropout2d(0.1),
        nn.AdaptiveMaxPool2d((5, 4)),
        nn.Tanh(),
        nn.AdaptiveAvgPool2d(2),
        nn.Sigmoid(),
        nn.Flatten(),
        nn.Linear(48, 32),
        nn.LayerNorm(32),
        nn.Hardsigmoid(),
        nn.Linear(32, 10, bias=False),
        nn.Softmax(dim=-1),
    )


class FunctionalNet(nn.Module):
    """The same kinds of layers written with functions and tensor methods."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(8, 4, 3, 3))
        self.bias = nn.Parameter(torch.zeros(8))
        self.up_weight = nn.Parameter(torch.randn(16, 4, 2, 2))
        self.norm = nn.Parameter(torch.ones(8))
        self.shift = nn.Parameter(torch.zeros(8))
        self.fc = nn.Parameter(torch.randn(10, 16))
        self.fc_bias = nn.Parameter(torch.zeros(10))
        self.gamma = nn.Parameter(torch.ones(8, 1, 1))
        self.register_buffer("mean", torch.zeros(8))
        self.register_buffer("var", torch.ones(8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.weight, self.bias, padding=1)
        x = F.batch_norm(x, self.mean, self.var, self.norm, self.shift, False)
        x = F.relu(x) * self.gamma
        a, b = x.chunk(2, dim=1)
        y = torch.cat([a + b, a - b, torch.sigmoid(a), a * 0.5], dim=1)
        y = F.max_pool2d(y, 2) + F.avg_pool2d(y, 3, 2, 1)
        y = F.pad(y, (1, 1, 0, 0))
        y = F.conv_transpose2d(y, self.up_weight, stride=2)
        y = F.interpolate(y, size=(12, 12), mode="nearest")
        y = F.adaptive_avg_pool2d(y, 4).flatten(1)
        z = y.view(y.shape[0], 4, 16)
        z = F.layer_norm(z, (16,))
        z = torch.matmul(z.transpose(1, 2), z)
        z = F.gelu(z).permute(0, 2, 1).reshape(-1, 16, 16)
        z = F.linear(z.mean(dim=1), self.fc, self.fc_bias)
        z = torch.add(z, z[:, 0:1].expand(-1, 10)).exp() / 2
        return F.softmax(z, dim=1)


def functional_net() -> nn.Module:
    return FunctionalNet()


class FunctionalMoreNet(nn.Module):
    """More functions: split, group norm, the other activations, 1d pooling, squeeze and
    unsqueeze, swapaxes, stack-free concatenation of slices, dropout."""

    def __init__(self) -> None:
        super().__init__()
        self.gn_weight = nn.Parameter(torch.ones(6))
        self.gn_bias = nn.Parameter(torch.zeros(6))
        self.fc = nn.Linear(6, 4, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.group_norm(x, 3, self.gn_weight, self.gn_bias)
        a, b, c = torch.split(x, [1, 2, 3], dim=1)
        y = torch.cat([F.hardswish(a), F.silu(b), F.leaky_relu(c, 0.1)], dim=1)
        y = F.elu(F.dropout(y, 0.2, training=self.training)) + F.relu6(y)
        y = F.max_pool1d(y.flatten(2), 4).unsqueeze(-1).squeeze(-1)
        y = F.adaptive_max_pool1d(torch.tanh(y), 3).swapaxes(1, 2)
        y = torch.sigmoid(self.fc(y)) * F.mish(y.mean(-1, keepdim=True))
        return F.log_softmax(y.amax(dim=1), dim=-1)


def functional_more_net() -> nn.Module:
    return FunctionalMoreNet()


class Transformer(nn.Module):
    """A vision transformer block: patches, class token, position embedding, attention, MLP."""

    def __init__(self, width: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, width, 4, 4)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.zeros(1, 17, width))
        self.ln1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Dropout(0.1), nn.Linear(4 * width, width))
        self.head = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        y = self.ln1(x)
        y, _ = self.attn(y, y, y, need_weights=False)
        x = x + y
        x = x + self.mlp(self.ln2(x))
        return self.head(x[:, 0])


def transformer() -> nn.Module:
    return Transformer()


class AttentionNet(nn.Module):
    """Attention written by hand: heads split with view, scaled_dot_product_attention and einsum."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(12, 36)
        self.proj = nn.Linear(12, 12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, 2, c // 2).permute(2, 0, 3, 1, 4).unbind(0)
        out = F.scaled_dot_product_attention(q, k, v)
        scores = torch.einsum("bhid,bhjd->bhij", q, k).softmax(dim=-1)
        out = out + torch.einsum("bhij,bhjd->bhid", scores, v)
        out = (out @ torch.ones(6, 6)).transpose(1, 2).reshape(b, n, c)
        return self.proj(out)


def attention_net() -> nn.Module:
    return AttentionNet()


class WindowNet(nn.Module):
    """Swin-style window attention: the batch folded into the windows, a relative position
    bias looked up by index, a shifted window with a mask, and rolls."""

    def __init__(self, channels: int = 16, window: int = 4, heads: int = 2) -> None:
        super().__init__()
        self.window, self.heads = window, heads
        self.norm = nn.LayerNorm(channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)
        self.table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + window - 1
        self.register_buffer("index", (rel[:, :, 0] * (2 * window - 1) + rel[:, :, 1]).flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        b, h, w, c = x.shape
        s, n = self.window, self.window * self.window
        shifted = torch.roll(self.norm(x), shifts=(-2, -2), dims=(1, 2))
        windows = shifted.view(b, h // s, s, w // s, s, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, n, c)
        qkv = self.qkv(windows).reshape(windows.size(0), n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * (c // self.heads) ** -0.5).matmul(k.transpose(-2, -1))
        bias = self.table[self.index].view(n, n, -1).permute(2, 0, 1).contiguous()
        attn = attn + bias.unsqueeze(0)
        mask = x.new_zeros((h, w))
        mask[: h - s, :] = 1
        mask = mask.view(h // s, s, w // s, s).permute(0, 2, 1, 3).reshape(-1, n)
        mask = (mask.unsqueeze(1) - mask.unsqueeze(2)).masked_fill(mask.unsqueeze(1) != mask.unsqueeze(2), -100.0)
        attn = attn.view(-1, (h // s) * (w // s), self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
        attn = F.softmax(attn.view(-1, self.heads, n, n), dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(windows.size(0), n, c)
        out = self.proj(out).view(b, h // s, w // s, s, s, c).permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)
        return torch.roll(out, shifts=(2, 2), dims=(1, 2)).permute(0, 3, 1, 2) + x.permute(0, 3, 1, 2)


def window_net() -> nn.Module:
    return WindowNet()


def volume_net() -> nn.Module:
    """3d: Conv3d, BatchNorm3d, MaxPool3d, ConvTranspose3d, AvgPool3d."""
    return nn.Sequential(
        nn.Conv3d(2, 4, 3, padding=1), nn.BatchNorm3d(4), nn.ReLU6(), nn.MaxPool3d(2),
        nn.ConvTranspose3d(4, 2, 2, stride=2), nn.AvgPool3d(2), nn.Flatten(), nn.Linear(150, 5),
    )


def signal_net() -> nn.Module:
    """1d: Conv1d, BatchNorm1d, pools, Upsample, ConvTranspose1d with output padding."""
    return nn.Sequential(
        nn.Conv1d(3, 8, 5, stride=2), nn.BatchNorm1d(8), nn.Mish(), nn.AvgPool1d(3),
        nn.Upsample(scale_factor=3, mode="linear"), nn.ConvTranspose1d(8, 4, 3, stride=2, output_padding=1),
        nn.Softplus(), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(4, 2), nn.LogSoftmax(dim=1),
    )


class AuxNet(nn.Module):
    """An auxiliary classifier that runs only in training (as GoogLeNet's)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.aux = nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, 5))
        self.head = nn.Sequential(nn.Conv2d(8, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        x = self.body(x)
        out = self.head(x)
        if self.training:
            return out, self.aux(x)
        return out


def aux_net() -> nn.Module:
    return AuxNet()


class UnknownOpNet(nn.Module):
    """A call netarith has no rule for (a cumulative sum)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(self.conv(x), dim=2)


def unknown_op_net() -> nn.Module:
    return UnknownOpNet()


def computed_widths_net() -> nn.Module:
    """Works out its widths with tensors before building (as torchvision's RegNet does)."""
    widths = (torch.arange(3) * 8.0 + 8).round().int().tolist()
    layers: list[nn.Module] = []
    channels = 3
    for width in widths:
        layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.ReLU()]
        channels = width
    return nn.Sequential(*layers)


class ItemInInit(nn.Module):
    """Reads a value out of a tensor it makes in ``__init__`` (as timm's drop-path rates)."""

    def __init__(self) -> None:
        super().__init__()
        rates = [r.item() for r in torch.linspace(0, 0.1, 2)]
        self.blocks = nn.Sequential(*[nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Dropout(r)) for r in rates])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


def item_in_init_net() -> nn.Module:
    return ItemInInit()
