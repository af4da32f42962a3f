"""Claims: the figures a paper (or a framework's metadata) prints about a network.

A claims file (YAML)::

    model: alexnet-paper          # a zoo name, or a notation file relative to this file
    source: "Krizhevsky, Sutskever, Hinton. NIPS 2012"
    claims:
      - figure: conv1.neurons     # LAYER.QUANTITY or totals.QUANTITY
        value: "253,440"          # as printed
        where: "Figure 2 caption"

A printed value carries its precision: ``253,440`` is exact; ``60 million`` is stated
to the tens of millions (one significant figure); ``4.2M`` to 0.1 M; ``3.8x10^9`` to
0.1e9; an integer ending in three or more zeros (``650,000``) to its last non-zero
digit. Shapes (``55x55x96``) may be printed HxWxC or CxHxW.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

from ._values import frozen, replace
from .errors import NotationError, SourceError, SpecError, did_you_mean
from .yamlite import load_documents

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "LAYER_QUANTITIES",
    "TOTAL_QUANTITIES",
    "Claim",
    "ClaimsFile",
    "Value",
    "load_claims",
    "parse_value",
    "read_claims",
]

LAYER_QUANTITIES = ("neurons", "params", "buffers", "macs", "flops", "connections", "shape")
TOTAL_QUANTITIES = ("params", "trainable_params", "buffers", "neurons", "activations", "macs", "flops",
                    "connections", "activation_bytes", "param_bytes")

_MULTIPLIERS = {
    "": 1, "k": 10**3, "thousand": 10**3, "m": 10**6, "mn": 10**6, "mil": 10**6, "million": 10**6,
    "millions": 10**6, "g": 10**9, "b": 10**9, "bn": 10**9, "billion": 10**9, "billions": 10**9,
    "t": 10**12, "trillion": 10**12,
}
_UNIT_WORDS = ("flops", "flop", "macs", "mac", "mult-adds", "multiply-adds", "params", "parameters",
               "neurons", "connections", "bytes", "b")
_NUMBER = re.compile(
    r"^(?P<approx>~|≈|about\s+|approx\.?\s+|approximately\s+)?"
    r"(?P<mantissa>[+-]?(?:\d{1,3}(?:[,\u202f\u2009 ]\d{3})+|\d+)(?:\.\d+)?)"
    r"(?:\s*(?:e|E|[x×*·]\s*10\s*\^?\s*)(?P<exp>[+-]?\d+))?"
    r"\s*(?P<mult>[A-Za-z]*)\s*(?P<unit>[A-Za-z-]*)$"
)
_SHAPE = re.compile(r"^\s*\d+(\s*[x×*]\s*\d+)+\s*$")
#: a printed figure is short; longer text is refused before any arithmetic on it
_MAX_FIGURE = 200
#: 10^-60 .. 10^60 covers every count a paper prints (and keeps Fraction arithmetic instant)
_MAX_EXPONENT = 60


@frozen
class Value:
    """A printed figure: its exact meaning and its precision."""

    text: str
    number: Fraction | None  # the value as printed, scaled (60 million -> 60,000,000)
    unit: Fraction  # one unit of the last stated digit (exact figures: 1 ... or 0 for shapes)
    shape: tuple[int, ...] | None = None
    multiplier: int = 1  # the scale word's value (10**6 for "million"), for the 1000-vs-1024 reading
    mantissa: Fraction | None = None

    @property
    def exact(self) -> bool:
        return self.shape is not None or self.unit == 1

    def as_json(self) -> int | float | list[int]:
        if self.shape is not None:
            return list(self.shape)
        assert self.number is not None
        return int(self.number) if self.number.denominator == 1 else float(self.number)

    def describe_precision(self) -> str:
        if self.shape is not None or self.unit == 1:
            return "exact"
        return f"to {_fmt(self.unit)}"

    def verdict(self, computed: int | tuple[int, ...]) -> str:
        """'match', 'rounds', 'rounds down' or 'mismatch' for a computed value."""
        if self.shape is not None:
            if not isinstance(computed, tuple):
                return "mismatch"
            return "match" if _same_shape(self.shape, computed) else "mismatch"
        if isinstance(computed, tuple) and len(computed) == 1:
            computed = computed[0]  # a vector's shape printed as one number: 4096
        if isinstance(computed, tuple) or self.number is None:
            return "mismatch"
        if computed == self.number:
            return "match"
        if self.unit == 1:
            return "mismatch"
        if abs(computed - self.number) * 2 <= self.unit:
            return "rounds"
        if self.number <= computed < self.number + self.unit:
            return "rounds down"
        return "mismatch"


def _same_shape(claimed: tuple[int, ...], computed: tuple[int, ...]) -> bool:
    if claimed == computed:
        return True
    if len(claimed) == len(computed) - 1:
        return claimed == computed[1:]  # the map's size without its channels: "112x112"
    # HxWxC as printed in papers, against channels-first CxHxW
    return len(claimed) == len(computed) and claimed == (*computed[1:], computed[0])


def _fmt(value: Fraction) -> str:
    if value.denominator == 1:
        return f"{value.numerator:,}"
    return str(float(value))


def parse_value(text: str | int) -> Value:
    """Read a figure as printed.

    >>> parse_value("253,440").number, parse_value("253,440").exact
    (Fraction(253440, 1), True)
    >>> v = parse_value("60 million"); int(v.number), int(v.unit)
    (60000000, 10000000)
    >>> parse_value("3.8x10^9").unit
    Fraction(100000000, 1)
    >>> parse_value("55x55x96").shape
    (55, 55, 96)
    """
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise SourceError(f"not a figure: {text!r}; write it as printed, e.g. 253,440")
    if isinstance(text, int):
        text = str(text)
    raw = text.strip()
    if len(raw) > _MAX_FIGURE:
        raise SourceError(f"cannot read the figure {raw[:40]!r}...: {len(raw):,} characters is not a printed figure")
    if _SHAPE.match(raw):
        return Value(raw, None, Fraction(0), tuple(int(p) for p in re.split(r"\s*[x×*]\s*", raw)))
    match = _NUMBER.match(raw)
    if not match:
        raise SourceError(f"cannot read the figure {text!r}: write it as printed, e.g. 253,440, "
                          "'60 million', '4.2M', '3.8x10^9' or 55x55x96")
    mult_word = match.group("mult").lower()
    unit_word = match.group("unit").lower()
    if mult_word not in _MULTIPLIERS:
        # "253,440 neurons": the letters are a unit, not a scale
        if unit_word == "" and mult_word in _UNIT_WORDS:
            mult_word, unit_word = "", mult_word
        elif mult_word.endswith(("flops", "macs")) and mult_word[:1] in _MULTIPLIERS:
            mult_word, unit_word = mult_word[:1], mult_word[1:]
        else:
            raise SourceError(f"cannot read the figure {text!r}: unknown scale {match.group('mult')!r}"
                              f"{did_you_mean(mult_word, _MULTIPLIERS)}")
    if unit_word and unit_word not in _UNIT_WORDS:
        raise SourceError(f"cannot read the figure {text!r}: unknown unit {match.group('unit')!r}")
    mantissa_text = re.sub(r"[,\u202f\u2009 ]", "", match.group("mantissa"))
    mantissa = Fraction(mantissa_text)
    scale = Fraction(_MULTIPLIERS[mult_word])
    if match.group("exp"):
        exponent = int(match.group("exp"))
        if abs(exponent) > _MAX_EXPONENT:
            raise SourceError(f"cannot read the figure {text!r}: the exponent {exponent} is out of range "
                              f"(at most {_MAX_EXPONENT} either way)")
        scale *= Fraction(10) ** exponent
    if "." in mantissa_text:
        unit = Fraction(1, 10 ** len(mantissa_text.split(".")[1])) * scale
    else:
        digits = mantissa_text.lstrip("+-")
        zeros = len(digits) - len(digits.rstrip("0")) if digits.strip("0") else 0
        scaled = scale != 1
        if scaled:
            unit = Fraction(10) ** zeros * scale
        elif zeros >= 3:
            unit = Fraction(10) ** zeros  # 650,000: a round figure
        else:
            unit = Fraction(1)
    number = mantissa * scale
    return Value(raw, number, unit, None, int(_MULTIPLIERS[mult_word]), mantissa)


@frozen
class Claim:
    """One printed figure and where it is stated."""

    figure: str
    value: Value
    where: str = ""
    note: str = ""
    line: int | None = None

    @property
    def layer(self) -> str:
        return self.figure.rpartition(".")[0]

    @property
    def quantity(self) -> str:
        return self.figure.rpartition(".")[2]


@frozen
class ClaimsFile:
    """A network's printed figures and where they come from."""

    model: str
    source: str
    claims: tuple[Claim, ...]
    input: str | None = None
    convention: str | None = None
    path: Path | None = None

    def model_source(self) -> str:
        """The model as a source for ``load``: a zoo name, or a file beside the claims file."""
        if self.path is not None:
            candidate = self.path.parent / self.model
            if candidate.suffix and candidate.is_file():
                return str(candidate)
        return self.model


def read_claims(path: str | Path) -> ClaimsFile:
    """Read a claims file (YAML)."""
    p = Path(path)
    if not p.is_file():
        raise SourceError(f"no such claims file: {str(p)!r}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{p}: not UTF-8 text") from None
    return load_claims(text, source=str(p), path=p)


def load_claims(text: str, *, source: str | None = None, path: Path | None = None) -> ClaimsFile:
    docs = load_documents(text, source=source)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise NotationError("a claims file is one mapping with model, source and claims", source=source)
    data: dict[str, Any] = docs[0]
    where = f"{source}: " if source else ""
    for key in ("model", "claims"):
        if key not in data:
            raise NotationError(f"{where}the claims file needs '{key}'", source=None)
    unknown = set(data) - {"model", "source", "claims", "input", "convention", "notes"}
    if unknown:
        name = sorted(unknown)[0]
        raise NotationError(f"{where}unknown key {name!r}"
                            f"{did_you_mean(name, ['model', 'source', 'claims', 'input', 'convention'])}")
    raw_claims = data["claims"]
    if not isinstance(raw_claims, list):
        raise NotationError(f"{where}'claims' must be a list of figures")
    claims = []
    for n, item in enumerate(raw_claims, start=1):
        claims.append(_claim(item, n, where))
    return ClaimsFile(str(data["model"]), str(data.get("source") or ""), tuple(claims),
                      _checked(data, "input", where), _checked(data, "convention", where), path)


def _checked(data: dict[str, Any], key: str, where: str) -> str | None:
    """The file's ``input`` or ``convention``, refused here (with the file named) if it is not one."""
    from .conventions import get_convention
    from .shape import Shape

    value = data.get(key)
    if value is None:
        return None
    try:
        if key == "input":
            Shape.parse(str(value))
        else:
            get_convention(str(value))
    except SpecError as exc:
        raise NotationError(f"{where}'{key}': {exc}") from None
    return str(value)


def _claim(item: Any, n: int, where: str) -> Claim:
    if not isinstance(item, dict) or "figure" not in item or "value" not in item:
        raise NotationError(f"{where}claim {n} needs 'figure' and 'value'")
    figure = str(item["figure"])
    layer, dot, quantity = figure.rpartition(".")
    if not dot or not layer:
        raise NotationError(f"{where}claim {n}: figure {figure!r} must be LAYER.QUANTITY or totals.QUANTITY")
    allowed = TOTAL_QUANTITIES if layer == "totals" else LAYER_QUANTITIES
    if quantity == "output_shape":
        figure, quantity = f"{layer}.shape", "shape"
    if quantity not in allowed:
        raise NotationError(f"{where}claim {n}: unknown quantity {quantity!r}{did_you_mean(quantity, allowed)} "
                            f"(one of: {', '.join(allowed)})")
    try:
        value = parse_value(item["value"])
    except SourceError as exc:
        raise NotationError(f"{where}claim {n} ({figure}): {exc}") from None
    if quantity == "shape" and value.shape is None and value.exact and value.number is not None:
        value = replace(value, shape=(int(value.number),))  # a vector: "4096"
    if (quantity == "shape") != (value.shape is not None):
        raise NotationError(f"{where}claim {n} ({figure}): a shape figure needs a shape value and "
                            "a count figure a number")
    return Claim(figure, value, str(item.get("where") or ""), str(item.get("note") or ""))
