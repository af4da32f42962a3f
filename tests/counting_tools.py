"""Run the counting tools themselves (torchinfo, fvcore, ptflops, thop) on a PyTorch
module at batch 1 in eval mode: the oracles of the counting presets."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Callable, Iterator
from typing import Any

TOOLS = ("torchinfo", "fvcore", "ptflops", "ptflops-aten", "thop")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The tools print, log and warn (thop imports distutils); none of it matters here."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def _torchinfo(model: Any, x: Any) -> int:
    from torchinfo import summary

    return int(summary(model, input_data=x, verbose=0, mode="eval").total_mult_adds)


def _fvcore(model: Any, x: Any) -> int:
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return int(analysis.total())


def _ptflops(backend: str) -> Callable[[Any, Any], int]:
    def run(model: Any, x: Any) -> int:
        from ptflops import get_model_complexity_info

        macs, _ = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False,
                                            print_per_layer_stat=False, backend=backend, ost=io.StringIO())
        assert macs is not None, "ptflops failed"
        return int(macs)
    return run


def _thop(model: Any, x: Any) -> int:
    from thop import profile

    macs, _ = profile(model, inputs=(x,), verbose=False)
    return int(macs)


_RUN: dict[str, Callable[[Any, Any], int]] = {
    "torchinfo": _torchinfo, "fvcore": _fvcore, "ptflops": _ptflops("pytorch"),
    "ptflops-aten": _ptflops("aten"), "thop": _thop,
}


def measure(model: Any, size: tuple[int, ...], tools: tuple[str, ...] = TOOLS) -> dict[str, int]:
    """Each tool's total for ``model`` on one random input of per-sample ``size``."""
    import torch

    model.eval()
    x = torch.randn(1, *size)
    out = {}
    with _quiet():
        for tool in tools:
            out[tool] = _RUN[tool](model, x)
    return out
