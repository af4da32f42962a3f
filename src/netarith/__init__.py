"""netarith: the exact arithmetic of convolutional networks.

Every layer's output shape, neurons, parameters, multiply-accumulates, memory
and receptive field, computed without running the network or allocating its
weights.

>>> import netarith
>>> report = netarith.analyze("3x227x227 | conv1: conv 96 k11 s4 | relu | maxpool k3 s2")
>>> report["conv1"].shape.dims, report["conv1"].neurons
((96, 55, 55), 290400)
>>> report.totals.params
34944

``import netarith`` needs only the standard library; PyTorch, ONNX and the web
server load when a function that needs them is called.
"""

from __future__ import annotations

from .analyze import DTYPES, LayerResult, Report, Totals, analyze
from .builder import Builder
from .conventions import CONVENTIONS, Convention, get_convention
from .errors import (
    GraphError,
    MissingExtraError,
    NetarithError,
    NotationError,
    ShapeError,
    SourceError,
    SpecError,
)
from .graph import Graph, Node
from .notation import parse, to_notation
from .shape import Shape
from .sources import load

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

    from torch import nn

__version__ = "0.1.0"

__all__ = [
    "CONVENTIONS",
    "DTYPES",
    "Builder",
    "Convention",
    "Graph",
    "GraphError",
    "LayerResult",
    "MissingExtraError",
    "NetarithError",
    "Node",
    "NotationError",
    "Report",
    "Shape",
    "ShapeError",
    "SourceError",
    "SpecError",
    "Totals",
    "__version__",
    "analyze",
    "from_torch",
    "get_convention",
    "load",
    "parse",
    "to_notation",
    "to_torch",
    "to_torch_code",
]


def from_torch(model: Any, input_size: str | Shape | tuple[int, ...], *, name: str | None = None) -> Graph:
    """Read a PyTorch model (an ``nn.Module``, or a function that builds one, such as
    ``torchvision.models.resnet50``) without allocating its weights; needs
    ``pip install 'netarith[torch]'``. ``input_size`` is per sample: ``"3x224x224"``.
    See :mod:`netarith.importers.torch`."""
    from .importers.torch import from_torch as read

    return read(model, input_size, name=name)


def to_torch(source: Any, *, convention: str | None = None) -> nn.Module:
    """Build the network as a ``torch.nn.Module`` (needs ``pip install 'netarith[torch]'``)."""
    from .exporters.torch import to_torch as export

    return export(source, convention=convention)


def to_torch_code(source: Any, *, convention: str | None = None) -> str:
    """Readable PyTorch code for the network (no torch needed to write it)."""
    from .exporters.torch import to_torch_code as export

    return export(source, convention=convention)
