"""Which op family defines each layer kind and alias, so that looking a kind up imports its
family alone (``base._load``). Written by ``python -m netarith.ops._index`` from the families
themselves; tests/test_ops_index.py checks that it is current. A name missing here (a kind
added since) is still found, by importing every family: slower, never wrong.
"""

from __future__ import annotations

#: family module -> the kinds and aliases its classes register
FAMILIES: dict[str, tuple[str, ...]] = {
    "activation": (
        "clamp", "clip", "drop_path", "dropout", "dropout1d", "dropout2d", "dropout3d", "droppath",
        "elu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "hsigmoid", "hswish", "leaky_relu",
        "leakyrelu", "logsoftmax", "lrelu", "mish", "prelu", "relu", "relu6", "sigmoid", "silu",
        "softmax", "softplus", "stochastic_depth", "stochasticdepth", "swish", "tanh",
    ),
    "conv": (
        "connconv", "conv", "conv1d", "conv2d", "conv3d", "convT", "conv_transpose", "convolution",
        "convt", "convtranspose", "deconv", "deconvolution", "partialconv", "tableconv",
    ),
    "input": (
        "constant", "data", "input", "parameter", "tensor",
    ),
    "linear": (
        "attention", "bmm", "dense", "einsum", "euclidean_rbf", "fc", "gemm", "inner_product",
        "innerproduct", "linear", "matmul", "mm", "rbf", "scaled_dot_product_attention", "sdpa",
    ),
    "merge": (
        "add", "cat", "concat", "concatenate", "div", "divide", "elementwise", "eltmax", "eltwise",
        "max", "maximum", "mul", "multiply", "pointwise", "prod", "scalar", "sub", "subtract",
        "sum",
    ),
    "norm": (
        "affine", "batch_norm", "batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d", "bn",
        "gn", "group_norm", "groupnorm", "inorm", "instance_norm", "instancenorm", "instancenorm2d",
        "layer_norm", "layer_scale", "layernorm", "layerscale", "ln", "local_response_norm",
        "localresponsenorm", "lrn", "norm", "scale",
    ),
    "opaque": (
        "custom", "opaque", "unknown",
    ),
    "pool": (
        "adaptive_avg_pool", "adaptive_max_pool", "adaptiveavgpool", "adaptiveavgpool2d",
        "adaptivemaxpool", "adaptivemaxpool2d", "ave_pool", "avg_pool", "avgpool", "avgpool1d",
        "avgpool2d", "avgpool3d", "gap", "global_avg_pool", "global_max_pool", "globalaveragepool",
        "globalavgpool", "globalmaxpool", "globalmaxpool2d", "max_pool", "maxpool", "maxpool1d",
        "maxpool2d", "maxpool3d", "pool", "subsample", "subsampling", "sumpool",
    ),
    "reduce": (
        "reduce",
    ),
    "resample": (
        "interpolate", "pad", "resize", "upsample", "zeropad", "zeropad2d",
    ),
    "reshape": (
        "broadcast_to", "channel_shuffle", "channelshuffle", "chunk", "embedding_lookup", "expand",
        "flatten", "gather", "identity", "index", "narrow", "noop", "permute", "reshape", "select",
        "shuffle", "slice", "take", "view",
    ),
}

#: kind or alias -> family module
FAMILY_OF = {name: family for family, names in FAMILIES.items() for name in names}


def written() -> str:
    """This file's text for the families as they are now (imports every family)."""
    from .base import REGISTRY

    families: dict[str, list[str]] = {}
    for name, cls in REGISTRY.items():
        package, _, family = cls.__module__.rpartition(".")
        if package == __package__:
            families.setdefault(family, []).append(name)
    with open(__file__, encoding="utf-8") as f:
        text = f.read()
    head, rest = text.split("FAMILIES: dict[str, tuple[str, ...]] = {\n", 1)
    tail = rest.split("}\n", 1)[1]
    body = "".join(_entry(family, sorted(names)) for family, names in sorted(families.items()))
    return f"{head}FAMILIES: dict[str, tuple[str, ...]] = {{\n{body}}}\n{tail}"


def _entry(family: str, names: list[str]) -> str:
    import textwrap  # here, not above: only writing the index needs it

    quoted = textwrap.fill(" ".join(f'"{name}",' for name in names), 100, initial_indent=" " * 8,
                           subsequent_indent=" " * 8)
    return f'    "{family}": (\n{quoted}\n    ),\n'


if __name__ == "__main__":
    text = written()
    with open(__file__, "w", encoding="utf-8") as f:
        f.write(text)
