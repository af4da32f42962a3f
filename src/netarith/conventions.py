"""Rounding conventions: how each framework turns a window count into an integer.

Every rule below is from ``reference/conv-arithmetic.md`` (sections 1 and 2),
which cites the framework sources it was read from:

=============  ===========  =====================================  ==========================  ===================
convention     conv         pooling                                'same'                      pool padding limit
=============  ===========  =====================================  ==========================  ===================
pytorch        floor        floor; ``ceil`` flag: ceil, and the    stride 1 only; total        p <= k // 2
                            last window must start in the input    d(k-1), extra at the end
                            or the left padding (ATen Pool.h)
caffe          floor        ceil by default; clip the last window  as pytorch (Caffe has none) p < k
                            only when pad > 0 (pooling_layer.cpp)
tensorflow     floor        floor                                  o = ceil(i/s), extra        none
                                                                   padding at the end
cuda-convnet   ceil         ceil, no clip (layer.py line 1097,      as pytorch                  none
                            1272)
onnx           floor        floor; ``ceil_mode``: as pytorch (the    SAME_UPPER: as tensorflow   none
                            onnx reference op_pool_common.py and
                            onnxruntime)
=============  ===========  =====================================  ==========================  ===================

ONNX's own shape inference (onnx 1.23, C++) does not apply the ceil-mode clip
that its reference implementation and onnxruntime apply; netarith follows the
runtime: a 32-wide axis pooled by k1 s2 in ceil mode gives 16, not 17.
"""

from __future__ import annotations

from ._values import frozen
from .errors import SpecError, did_you_mean

__all__ = ["CONVENTIONS", "Clip", "Convention", "Rounding", "get_convention"]

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Literal

    Rounding = Literal["floor", "ceil"]
    Clip = Literal["pytorch", "caffe", "none"]
else:  # the names, for the modules that import them; their values matter to type checkers only
    Rounding = Clip = str


@frozen
class Convention:
    """The rounding rules of one framework."""

    name: str
    conv_rounding: Rounding
    pool_rounding: Rounding  # the default when a pooling layer names none
    pool_clip: Clip  # which rule drops a last window that starts past the input
    same: Literal["pytorch", "tensorflow"]
    pool_pad_limit: Literal["pytorch", "caffe", "none"]
    description: str

    def __str__(self) -> str:
        return self.name


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "pytorch",
            conv_rounding="floor",
            pool_rounding="floor",
            pool_clip="pytorch",
            same="pytorch",
            pool_pad_limit="pytorch",
            description="PyTorch: floor everywhere; ceil_mode pools drop a last window "
            "that starts in the right padding",
        ),
        Convention(
            "caffe",
            conv_rounding="floor",
            pool_rounding="ceil",
            pool_clip="caffe",
            same="pytorch",
            pool_pad_limit="caffe",
            description="Caffe: convolutions floor, pooling rounds up (clipped only with padding)",
        ),
        Convention(
            "tensorflow",
            conv_rounding="floor",
            pool_rounding="floor",
            pool_clip="pytorch",
            same="tensorflow",
            pool_pad_limit="none",
            description="TensorFlow: VALID floors; SAME gives ceil(i/s) with the extra "
            "padding at the end",
        ),
        Convention(
            "cuda-convnet",
            conv_rounding="ceil",
            pool_rounding="ceil",
            pool_clip="none",
            same="pytorch",
            pool_pad_limit="none",
            description="cuda-convnet (Krizhevsky's code): convolutions and pooling round up, "
            "the last window may hang past the edge",
        ),
        Convention(
            "onnx",
            conv_rounding="floor",
            pool_rounding="floor",
            pool_clip="pytorch",
            same="tensorflow",
            pool_pad_limit="none",
            description="ONNX: floor; ceil_mode pools drop a last window that starts in the right "
            "padding; SAME_UPPER gives ceil(i/s) with the extra padding at the end",
        ),
    )
}


def get_convention(name: str | Convention | None) -> Convention:
    """Look a convention up by name (``None`` gives pytorch).

    >>> get_convention("cuda-convnet").conv_rounding
    'ceil'
    """
    if name is None:
        return CONVENTIONS["pytorch"]
    if isinstance(name, Convention):
        return name
    key = name.strip().lower().replace("_", "-")
    if key in ("cudaconvnet", "cuda-convnet2", "cuda-convnet"):
        key = "cuda-convnet"
    if key in ("tf", "keras"):
        key = "tensorflow"
    if key in ("torch",):
        key = "pytorch"
    try:
        return CONVENTIONS[key]
    except KeyError:
        raise SpecError(
            f"unknown convention {name!r}{did_you_mean(key, CONVENTIONS)} "
            f"(one of: {', '.join(CONVENTIONS)})"
        ) from None
