"""Audit a paper: check every printed figure against the computed one, and search
for what explains each mismatch.

Three families of explanation, ranked by how few and how plausible the changes are:

* ``architecture``: the network differs from what was printed: the input size, one or
  two layers' padding, stride, kernel, channels or groups, the rounding convention, a
  layer dropped or two swapped. A change is kept when it reproduces the figure; the
  claims it would break are listed and cost it rank.
* ``convention``: the figure counts something else: MACs printed as FLOPs (or the
  reverse), biases in or out, batch-norm statistics counted as parameters (Keras), one
  GPU's half of a grouped layer, connections for parameters, an auxiliary head in or
  out, 1024 for 1000.
* ``slip``: a misprint: the layer's own factors with one replaced by another number of
  the network, two digits swapped, a size off by one.

The search reuses the analysis: a candidate is evaluated only as far as the figure
needs (a layer's figure needs only that layer's ancestors), so it stays fast.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction

from ._values import frozen, mutable, replace
from .analyze import Report, analyze_graph
from .claims import Claim, ClaimsFile, Value, read_claims
from .conventions import CONVENTIONS, Convention, get_convention
from .deadline import check as check_deadline
from .errors import NetarithError, ShapeError, SourceError, did_you_mean
from .graph import Graph, Node
from .ops.base import Context, Op, Out, arg_fields
from .ops.input import Input
from .shape import Shape

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["AuditReport", "ClaimResult", "Explanation", "audit", "audit_claims"]

Computed = int | tuple[int, ...]
REPRODUCES = ("match", "rounds", "rounds down")
#: Most variants, and seconds, one figure's architecture search may take.
SEARCH_BUDGET = 20_000
SEARCH_SECONDS = 2.0


@frozen
class Explanation:
    """One way to account for a mismatch."""

    family: str  # architecture | convention | slip
    text: str
    changes: tuple[str, ...]
    reproduces: Computed
    cost: float
    breaks: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "family": self.family,
            "text": self.text,
            "changes": list(self.changes),
            "reproduces": list(self.reproduces) if isinstance(self.reproduces, tuple) else self.reproduces,
        }
        if self.breaks:
            out["breaks"] = list(self.breaks)
        return out


@frozen
class ClaimResult:
    claim: Claim
    computed: Computed | None
    verdict: str  # match | rounds | mismatch | not computed
    explanations: tuple[Explanation, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def explained(self) -> bool:
        return self.verdict not in ("mismatch", "not computed") or bool(self.explanations)

    def to_dict(self) -> dict[str, Any]:
        computed: Any = self.computed
        if isinstance(computed, tuple):
            computed = list(computed)
        return {
            "figure": self.claim.figure,
            "where": self.claim.where,
            "claimed": self.claim.value.as_json(),
            "printed": self.claim.value.text,
            "computed": computed,
            "verdict": "rounds" if self.verdict == "rounds down" else self.verdict,
            "explanations": [e.to_dict() for e in self.explanations],
            "notes": list(self.notes),
        }


@frozen(slots=False)
class AuditReport:
    model: str
    source: str
    convention: str
    results: tuple[ClaimResult, ...]
    failure: str | None = None
    searched: int = 0
    seconds: float = 0.0

    @property
    def unexplained(self) -> list[ClaimResult]:
        return [r for r in self.results if not r.explained]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model,
            "source": self.source,
            "convention": self.convention,
            "claims": [r.to_dict() for r in self.results],
        }
        if self.failure:
            out["failure"] = self.failure
        return out


# ---------------------------------------------------------------------------- entry points


def audit(target: str | ClaimsFile, *, convention: str | None = None) -> AuditReport:
    """Audit a zoo model's claims, or a claims file.

    >>> report = audit("alexnet-paper")
    >>> [(r.claim.figure, r.verdict) for r in report.results if r.verdict == "mismatch"]
    [('conv1.neurons', 'mismatch')]
    """
    claims = target if isinstance(target, ClaimsFile) else _find_claims(target)
    from .sources import load

    graph = load(claims.model_source())
    if claims.input:
        graph = graph.with_input(claims.input)
    return audit_claims(graph, claims, convention=convention or claims.convention)


def _find_claims(target: str) -> ClaimsFile:
    from pathlib import Path

    path = Path(target)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return read_claims(path)
    from . import zoo

    entry = zoo.get(target)  # raises with a suggestion for unknown names
    claims_path = Path(zoo.__file__).parent / "claims" / f"{entry.name}.yaml"
    if not claims_path.is_file():
        raise SourceError(f"the zoo model {entry.name!r} has no claims file to audit")
    return read_claims(claims_path)


def audit_claims(graph: Graph, claims: ClaimsFile, *, convention: str | None = None) -> AuditReport:
    """Check each claim of ``claims`` against ``graph`` and explain the mismatches."""
    started = time.perf_counter()
    conv = get_convention(convention if convention is not None else graph.convention)
    search = _Search(graph, conv, claims.claims)
    results = search.run()
    return AuditReport(
        model=graph.name or claims.model,
        source=claims.source,
        convention=conv.name,
        results=tuple(results),
        failure=search.failure,
        searched=search.evaluated,
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------- reading figures


def figure_value(report: Report, claim: Claim) -> Computed:
    """The computed value of a claim's figure."""
    layer, quantity = claim.layer, claim.quantity
    if layer == "totals":
        value: int = getattr(report.totals, quantity)
        return value
    try:
        result = report[layer]
    except NetarithError:
        names = [r.name for r in report.layers]
        raise SourceError(f"claim {claim.figure}: no layer named {layer!r}{did_you_mean(layer, names)}") from None
    if quantity == "shape":
        return result.shape.dims
    number: int = getattr(result, quantity)
    return number


# ---------------------------------------------------------------------------- candidate changes


@frozen
class Change:
    """One edit of the network: an argument, the input, the convention, a drop or a swap."""

    kind: str  # arg | input | convention | drop | swap
    text: str
    cost: float
    layer: str = ""
    field: str = ""
    value: Any = None

    @property
    def prose(self) -> str:
        """The change in words: 'conv1 padded by 2 on each side'."""
        if self.kind == "input":
            return f"a {'x'.join(map(str, self.value.spatial))} input"
        if self.kind == "convention":
            return f"{self.value.name}'s rounding"
        if self.kind == "drop":
            return f"without {self.layer}"
        if self.kind == "swap":
            return f"{self.layer} before {self.value}"
        if self.field == "padding":
            before, after = self.value[0]
            if before == after:
                return f"{self.layer} padded by {before} on each side"
            return f"{self.layer} padded by {before} before and {after} after"
        if self.field == "rounding":
            return f"{self.layer} rounding {'up' if self.value == 'ceil' else 'down'}"
        if self.field == "out":
            return f"{self.layer} with {self.value} channels"
        shown = self.value[0] if isinstance(self.value, tuple) else self.value
        return f"{self.layer} with {self.field} {shown}"


@mutable(slots=False)
class _Variant:
    nodes: tuple[Node, ...]
    convention: Convention
    first: int  # index of the first node that differs from the base
    rewired: bool = False  # a layer dropped or two swapped: the base graph's edges no longer hold


class _Search:
    def __init__(self, graph: Graph, conv: Convention, claims: Sequence[Claim]) -> None:
        self.graph = graph
        self.conv = conv
        self.claims = list(claims)
        self.nodes = graph.nodes
        self.index = {n.name: i for i, n in enumerate(self.nodes)}
        self.evaluated = 0
        self._nodes_by_change: dict[str, Node | None] = {}
        self._contexts: dict[str, Context] = {}
        self.failure: str | None = None
        self.report: Report | None = None
        try:
            self.report = analyze_graph(graph, conv)
        except ShapeError as exc:
            self.failure = str(exc)
        self.base_outs: dict[str, tuple[Shape, Out]] = {}
        if self.report is not None:
            self.base_outs = self._forward(_Variant(self.nodes, conv, 0), None)
        self.numbers = self._network_numbers()
        self.ancestors = self._ancestors()
        self.users: dict[str, list[str]] = {}
        for node in self.nodes:
            for name in node.inputs:
                self.users.setdefault(name, []).append(node.name)
        self._by_text: dict[str, Change] = {}
        self.matched: list[Claim] = []
        self.found: list[Explanation] = []  # architecture changes found so far, reused downstream
        self.truncated = ""

    # -- evaluation --------------------------------------------------------------

    def _forward(self, variant: _Variant, targets: set[str] | None) -> dict[str, tuple[Shape, Out]]:
        """Shapes and counts of the variant's layers, only as far as ``targets`` need."""
        self.evaluated += 1
        check_deadline()
        outs: dict[str, tuple[Shape, Out]] = {}
        ctx = self._contexts.get(variant.convention.name)
        if ctx is None:
            ctx = self._contexts[variant.convention.name] = Context(variant.convention)
        needed = None if targets is None else self._needed(variant, targets)
        for i, node in enumerate(variant.nodes):
            if i < variant.first and node.name in self.base_outs:
                outs[node.name] = self.base_outs[node.name]
                continue
            if needed is not None and node.name not in needed:
                continue
            try:
                out = node.op.infer([outs[n][0] for n in node.inputs], ctx)
            except ShapeError as exc:
                raise ShapeError(f"{node.name}: {exc}") from None
            outs[node.name] = (out.shape, out)
        return outs

    def _needed(self, variant: _Variant, targets: set[str]) -> set[str] | None:
        if any(t == "totals" for t in targets):
            return None
        if not variant.rewired:
            needed: set[str] = set()
            for t in targets:
                needed |= self.ancestors.get(t, set()) | {t}
            return needed
        by_name = {n.name: n for n in variant.nodes}
        needed = set()
        stack = [t for t in targets if t in by_name]
        while stack:
            name = stack.pop()
            if name in needed:
                continue
            needed.add(name)
            stack.extend(by_name[name].inputs)
        return needed

    def _value(self, outs: dict[str, tuple[Shape, Out]], claim: Claim, variant: _Variant) -> Computed | None:
        layer, quantity = claim.layer, claim.quantity
        if layer == "totals":
            return _total(outs, quantity, variant)
        if layer not in outs:
            return None
        shape, out = outs[layer]
        return _layer_quantity(shape, out, quantity)

    def _reproduces(self, claim: Claim, variant: _Variant) -> Computed | None:
        try:
            outs = self._forward(variant, {claim.layer})
        except ShapeError:
            return None
        value = self._value(outs, claim, variant)
        if value is not None and claim.value.verdict(value) in REPRODUCES:
            return value
        return None

    def _full(self, variant: _Variant) -> Report | None:
        try:
            return analyze_graph(Graph(variant.nodes, self.graph.name), variant.convention)
        except NetarithError:
            return None

    # -- the audit ---------------------------------------------------------------

    def run(self) -> list[ClaimResult]:
        if self.report is None:
            return self._run_failed()
        base = self.report
        results = []
        for claim in self.claims:
            computed = figure_value(base, claim)
            results.append(ClaimResult(claim, computed, claim.value.verdict(computed)))
        self.matched = [r.claim for r in results if r.verdict in REPRODUCES]
        out = list(results)
        # Upstream figures first: a change found for one often explains those after it.
        for i in sorted(range(len(results)), key=lambda i: self._position(results[i].claim)):
            r = results[i]
            out[i] = self._explain_match(r) if r.verdict in REPRODUCES else self._explain_mismatch(r)
        return self._share_global(out)

    def _position(self, claim: Claim) -> int:
        return self.index.get(claim.layer, len(self.nodes))

    def _explain_match(self, result: ClaimResult) -> ClaimResult:
        notes = []
        if result.verdict != "match":
            notes.append(_rounding_note(result.claim.value, result.computed))
        notes += self._near_notes(result)
        # A figure that matches only under the model's own rounding: say what else would do.
        claim = result.claim
        if self.conv.name != "pytorch" and claim.layer != "totals" and claim.quantity in ("shape", "neurons"):
            pytorch = get_convention("pytorch")
            variant = _Variant(self.nodes, pytorch, 0)
            try:
                outs = self._forward(variant, {claim.layer})
                other = self._value(outs, claim, variant)
            except ShapeError:
                other = None
            node = self.graph[claim.layer]
            origin = next((n for n in self._scope_layers(claim.layer)
                           if n.name in outs and outs[n.name][0] != self.base_outs[n.name][0]), None) \
                if other is not None else None
            if other == result.computed:
                pass
            elif origin is not None and origin.name != node.name:
                notes.append(f"under PyTorch's rounding this would be {_show(other)}: the difference starts "
                             f"at {origin.name}")
            elif other is not None and claim.value.verdict(other) not in REPRODUCES:
                alternatives = self._architecture(result.claim, pytorch)
                explanations = [Explanation(
                    "convention",
                    f"{self.conv.name} rounding, the model's convention: {self.conv.description}",
                    (f"convention {self.conv.name}",), result.computed or 0, 0.5)]
                explanations += [e for e in alternatives if e.changes != (f"convention {self.conv.name}",)]
                notes.append(f"under PyTorch's rounding this would be {_show(other)}, not {result.claim.value.text}")
                return replace(result, explanations=tuple(_rank(explanations)), notes=tuple(notes))
        return replace(result, notes=tuple(notes))

    def _explain_mismatch(self, result: ClaimResult) -> ClaimResult:
        claim = result.claim
        explanations = self._conventions(claim) + self._slips(claim)
        notes = self._facts(claim, result.computed) + self._near_notes(result)
        # A change that explained an upstream figure is tried first; only if none reproduces
        # this one is a new search run. A total that a counting convention already explains
        # is not worth a network-wide search.
        reused = self._reuse(claim)
        if reused:
            explanations += reused
        elif claim.layer != "totals" or not explanations:
            found = self._architecture(claim, self.conv)
            self.found += [e for e in found if not e.breaks]
            explanations += found
            if self.truncated:
                notes.append(self.truncated)
            if not any(e.family == "architecture" for e in explanations):
                notes.append(self.searched_note(claim))
        return replace(result, explanations=tuple(_rank(explanations)), notes=tuple(notes))

    def _run_failed(self) -> list[ClaimResult]:
        """The network as printed does not compute: find the fewest changes that make it."""
        failing = self._failing_layer()
        window = self._scope_layers(failing)
        variants = []
        for pairs in (False, True):
            for changes in self._candidates(window, self.conv, pairs=pairs, cheap=True):
                if pairs and len(changes) == 1:
                    continue
                variant = self._apply(changes, self.conv)
                if variant is None:
                    continue
                try:  # first only as far as the failing layer: most candidates stop there
                    self._forward(variant, {failing})
                except ShapeError:
                    continue
                report = self._full(variant)
                if report is None:
                    continue
                matched = sum(1 for c in self.claims if _safe_verdict(report, c) in REPRODUCES)
                # every claim the fix leaves unmatched makes it less plausible
                cost = sum(c.cost for c in changes) + 3 * (len(self.claims) - matched)
                variants.append((-matched, cost, changes, report))
            if variants:
                break
        variants.sort(key=lambda item: (item[0], item[1]))
        results = []
        for claim in self.claims:
            explanations = []
            for _, cost, changes, report in variants[:40]:
                value = _safe_value(report, claim)
                if value is not None and claim.value.verdict(value) in REPRODUCES:
                    explanations.append(Explanation(
                        "architecture",
                        f"{_describe(changes)} makes the network compute and gives {_show(value)}",
                        tuple(c.text for c in changes), value, cost))
            results.append(ClaimResult(claim, None, "not computed", tuple(_rank(explanations)[:5]),
                                       (f"the network as printed does not compute: {self.failure}",)))
        return results

    def _failing_layer(self) -> str:
        for node in self.nodes:
            if self.failure and f"{node.name}:" in self.failure:
                return node.name
        return self.nodes[-1].name

    # -- convention family --------------------------------------------------------

    def _conventions(self, claim: Claim) -> list[Explanation]:
        assert self.report is not None
        report = self.report
        value = claim.value
        out: list[Explanation] = []
        q = claim.quantity
        layer_result = None if claim.layer == "totals" else report[claim.layer]
        source = report.totals if layer_result is None else layer_result

        def offer(number: int, text: str, change: str, cost: float) -> None:
            if value.verdict(number) in REPRODUCES:
                out.append(Explanation("convention", text, (change,), number, cost))

        if q == "flops":
            offer(source.macs, f"the figure counts multiply-adds (MACs, {source.macs:,}), printed as FLOPs",
                  "count macs as flops", 0.5)
        if q == "macs":
            offer(source.flops, f"the figure counts FLOPs (2 x MACs = {source.flops:,}), printed as MACs",
                  "count flops as macs", 0.5)
        if q in ("macs", "flops"):
            bias = sum(r.extras.get("bias", 0) for r in self._scope(layer_result))
            factor = 2 if q == "flops" else 1
            base = source.macs if q == "macs" else source.flops
            offer(base + factor * bias, f"bias additions counted too ({bias:,})", "count bias adds", 1.0)
            if q == "flops":
                offer(source.macs + bias, f"MACs plus bias additions ({source.macs:,} + {bias:,})",
                      "count macs and bias adds as flops", 1.2)
            train = self._train_macs(layer_result)
            if train:
                offer(base + factor * train, f"the training-only head's {train:,} MACs counted", "count aux head", 1.0)
        if q in ("params", "trainable_params"):
            biases = sum(_bias_params(r.node.op, r.shape) for r in self._scope(layer_result))
            if biases:
                offer(source.params - biases, f"biases left out ({biases:,})", "count without biases", 1.0)
            stats = sum(r.buffers - 1 for r in self._scope(layer_result) if r.buffers and r.kind == "bn")
            if stats:
                offer(source.params + stats, f"batch-norm moving statistics counted as parameters, as Keras "
                      f"does ({stats:,})", "count bn statistics", 1.0)
            aux = sum(r.params for r in self._scope(layer_result) if self._train_only(r.name))
            if aux:
                offer(source.params - aux, f"the training-only head left out ({aux:,} parameters)",
                      "without aux head", 1.0)
            offer(source.connections, f"connections ({source.connections:,}) printed as parameters",
                  "count connections", 1.0)
        if q == "connections":
            offer(source.params, f"parameters ({source.params:,}) printed as connections", "count params", 1.0)
        if q == "neurons" and layer_result is None:
            offer(report.totals.activations, "every layer's outputs counted, not only the weighted layers'",
                  "count all activations", 1.0)
        if layer_result is not None and q in ("neurons", "params", "macs", "connections"):
            groups = self._gpu_groups(layer_result)
            for g in groups:
                number = getattr(layer_result, q)
                if number % g == 0:
                    offer(number // g, f"one GPU's share: {number:,} / {g}", f"per group of {g}", 1.0)
        # 1000 versus 1024 for K, M, G
        if value.number is not None and value.multiplier > 1 and value.mantissa is not None:
            binary = 1024 ** round(math.log(value.multiplier, 1000))
            reread = Value(value.text, value.mantissa * binary, value.unit / value.multiplier * binary,
                           None, binary, value.mantissa)
            number_now = getattr(source, q)
            if reread.verdict(number_now) in REPRODUCES:
                out.append(Explanation("convention", f"the scale read as a power of 1024: {value.text} = "
                                       f"{_show(int(reread.number or 0))}", ("binary units",), number_now, 1.0))
        return out

    def _scope(self, layer_result: Any) -> Iterable[Any]:
        assert self.report is not None
        return self.report.layers if layer_result is None else (layer_result,)

    def _train_only(self, name: str) -> bool:
        assert self.report is not None
        return any("runs only in training" in w for w in self.report[name].warnings)

    def _train_macs(self, layer_result: Any) -> int:
        if layer_result is not None:
            return 0
        train = analyze_graph(self.graph, self.conv, mode="train")
        assert self.report is not None
        return train.totals.macs - self.report.totals.macs

    def _gpu_groups(self, layer_result: Any) -> list[int]:
        op = layer_result.node.op
        groups = {getattr(op, "groups", 1)} | self.numbers_groups
        return sorted(g for g in groups if isinstance(g, int) and g > 1)

    # -- slip family -------------------------------------------------------------

    def _slips(self, claim: Claim) -> list[Explanation]:
        if claim.layer == "totals" or claim.quantity == "shape" or claim.value.number is None:
            return []
        assert self.report is not None
        target = claim.value.number
        if target.denominator != 1 or target <= 0:
            return []
        target_int = int(target)
        result = self.report[claim.layer]
        out: list[Explanation] = []
        seen: set[tuple[int, ...]] = set()
        for factors, roles in self._factorisations(result, claim.quantity):
            for i, old in enumerate(factors):
                rest = math.prod(factors[:i] + factors[i + 1:])
                if rest == 0 or target_int % rest:
                    continue
                new = target_int // rest
                if new == old or new not in self.numbers:
                    continue
                slipped = tuple(sorted(factors[:i] + (new,) + factors[i + 1:]))
                if slipped in seen:
                    continue
                seen.add(slipped)
                own = new in roles
                where = roles.get(new) or self.numbers[new]
                shown = " x ".join(str(f) for f in sorted(factors[:i] + (new,) + factors[i + 1:], reverse=False))
                out.append(Explanation(
                    "slip",
                    f"{target_int:,} = {shown}: the layer's own factors with one {old} ({roles.get(old, '')}) "
                    f"written as {new} ({where})",
                    (f"{claim.figure}: {old} -> {new}",), target_int, 1.2 if own else 1.8))
        computed = getattr(result, claim.quantity)
        digits = str(computed)
        for i in range(len(digits) - 1):
            swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
            if swapped != digits and int(swapped) == target_int:
                out.append(Explanation("slip", f"two digits swapped: {computed:,} printed as {target_int:,}",
                                       (f"{claim.figure}: digits {i + 1},{i + 2} swapped",), target_int, 1.5))
        if claim.quantity in ("neurons",):
            dims = result.shape.dims
            for axis in range(1, len(dims)):
                for delta in (-1, 1):
                    changed = dims[:axis] + (dims[axis] + delta,) + dims[axis + 1:]
                    if math.prod(changed) == target_int:
                        out.append(Explanation(
                            "slip", f"a size off by one: {dims[axis] + delta} for {dims[axis]}",
                            (f"{claim.figure}: size {dims[axis]} -> {dims[axis] + delta}",), target_int, 1.6))
        return out

    def _factorisations(self, result: Any, quantity: str) -> Iterator[tuple[tuple[int, ...], dict[int, str]]]:
        dims = result.shape.dims
        op = result.node.op
        roles = {dims[0]: "channels"}
        for axis, size in zip(result.shape.axis_names(), dims[1:]):
            roles.setdefault(size, f"the map's {'height' if axis == 'H' else 'width' if axis == 'W' else axis}")
        if quantity == "neurons":
            yield dims, roles
            for g in self._gpu_groups(result):
                if dims[0] % g == 0 and dims[0] // g > 1:
                    split = {**roles, g: "GPUs", dims[0] // g: "the kernels per GPU"}
                    yield (g, dims[0] // g, *dims[1:]), split
        elif quantity == "macs" and hasattr(op, "kernel"):
            ins = self.report[result.inputs[0]].shape if self.report else None
            if ins is not None:
                g = getattr(op, "groups", 1)
                kernel = tuple(op.kernel) * (len(dims) - 1) if len(op.kernel) == 1 else tuple(op.kernel)
                yield (*dims, ins.channels // g, *kernel), {**roles, ins.channels // g: "input channels per group"}

    # -- architecture family -----------------------------------------------------

    def _architecture(self, claim: Claim, conv: Convention) -> list[Explanation]:
        """Changes of the network that reproduce the figure: single changes first; pairs only
        when no single change reproduces it without breaking a figure that matched."""
        scope = claim.layer if claim.layer != "totals" else None
        window = self._window(scope)
        channels_only = self._needs_channels(claim)
        started, budget = time.perf_counter(), self.evaluated + SEARCH_BUDGET
        self.truncated = ""
        out: list[Explanation] = []
        singles_done = False
        for changes in self._candidates(window, conv, pairs=True, cheap=scope is not None):
            if len(changes) > 1 and not singles_done:
                singles_done = True
                out = [self._with_breaks(e, conv) for e in _rank(out)[:300]]
                if any(not e.breaks for e in out):
                    return _rank(out)[:12]
            if self.evaluated > budget or time.perf_counter() - started > SEARCH_SECONDS:
                self.truncated = (f"the search for {claim.figure} stopped after "
                                  f"{self.evaluated - budget + SEARCH_BUDGET:,} variants (its budget); "
                                  "single changes were all tried first")
                break
            if channels_only and not any(c.field == "out" and c.layer == claim.layer for c in changes):
                continue
            variant = self._apply(changes, conv)
            if variant is None:
                continue
            value = self._reproduces(claim, variant)
            if value is None:
                continue
            out.append(Explanation("architecture", f"{_describe(changes)} gives {_show(value)}",
                                   tuple(c.text for c in changes), value, sum(c.cost for c in changes)))
            if singles_done and len(out) > 400:
                break  # enough pairs to rank; every single change is always tried
        return _rank(self._with_breaks(e, conv) for e in _rank(out)[:300])[:12]

    def _needs_channels(self, claim: Claim) -> bool:
        """A neuron count that no square map of the layer's channels gives: only a change of
        those channels can explain it, since every other change here keeps the map square.

        (The changes tried are the same on every axis: square inputs, and one kernel,
        stride and padding for all axes. On a square input through layers that treat every
        axis alike, the maps stay square.)
        """
        if claim.quantity != "neurons" or claim.layer == "totals" or self.report is None:
            return False
        result = self.report[claim.layer]
        if not result.node.op.weighted or result.shape.rank < 2 or claim.value.number is None:
            return False
        spatial = result.shape.spatial
        if len(set(spatial)) != 1 or not self._axes_alike(claim.layer):
            return False
        per_map = claim.value.number / result.shape.channels
        if per_map.denominator != 1:
            return True
        side = round(int(per_map) ** (1 / len(spatial)))
        return not any((side + d) ** len(spatial) == per_map for d in (-1, 0, 1) if side + d > 0)

    def _axes_alike(self, layer: str) -> bool:
        """The input is square and every layer up to ``layer`` treats all axes alike."""
        for name in self.ancestors[layer] | {layer}:
            op = self.graph[name].op
            if isinstance(op, Input):
                if len(set(op.shape.spatial)) > 1:
                    return False
                continue
            for f, _ in arg_fields(type(op)):
                value = getattr(op, f.name)
                if isinstance(value, tuple) and len(set(value)) > 1:
                    return False
        return True

    def _reuse(self, claim: Claim) -> list[Explanation]:
        out = []
        for e in self.found:
            changes = tuple(self._by_text[t] for t in e.changes if t in self._by_text)
            variant = self._apply(changes, self.conv) if len(changes) == len(e.changes) else None
            value = self._reproduces(claim, variant) if variant is not None else None
            if value is not None:
                out.append(replace(e, text=f"{_describe(changes)} gives {_show(value)}", reproduces=value))
        return out

    def _window(self, scope: str | None) -> list[Node]:
        """Where a change could explain a figure at ``scope`` without breaking one that matched:
        its ancestors (every layer, for a total), less those at or before a matched layer figure."""
        layers = self._scope_layers(scope)
        upstream = self.ancestors.get(scope, set()) if scope is not None else None
        settled: set[str] = set()
        for c in self.matched:
            if c.layer == "totals" or c.layer not in self.ancestors:
                continue
            if upstream is None or c.layer in upstream:
                settled |= self.ancestors[c.layer] | {c.layer}
        window = [n for n in layers if n.name not in settled]
        return window or layers

    def _with_breaks(self, explanation: Explanation, conv: Convention) -> Explanation:
        if explanation.breaks or explanation.text.endswith("no longer match)"):
            return explanation  # already checked
        changes = [self._change_from_text(t) for t in explanation.changes]
        variant = self._apply(tuple(c for c in changes if c is not None), conv)
        if variant is None:
            return explanation
        report = self._full(variant)
        broken = tuple(
            c.figure for c in self.matched
            if report is None or _safe_verdict(report, c) not in REPRODUCES
        )
        if not broken:
            return explanation
        return replace(explanation, breaks=broken, cost=explanation.cost + 3 * len(broken),
                       text=explanation.text + f" (but then {', '.join(broken)} no longer match)")

    def _change_from_text(self, text: str) -> Change | None:
        return self._by_text.get(text)

    def _candidates(self, window: list[Node], conv: Convention, *, pairs: bool,
                    cheap: bool) -> Iterator[tuple[Change, ...]]:
        """Single changes, then pairs (and the input x padding x convention grid), cheapest first.

        ``cheap`` says a candidate costs little to evaluate (a layer's figure needs only its
        ancestors); the input-size pairs are tried only then.
        """
        singles = list(self._singles(window, conv))
        self._by_text.update((c.text, c) for c in singles)
        for c in singles:
            yield (c,)
        if not pairs:
            return
        convs = [c for c in singles if c.kind == "convention"]
        sizes = [c for c in singles if c.kind == "input"]
        locals_ = [c for c in singles if c.kind == "arg" and c.field in ("padding", "stride", "rounding", "kernel")]
        windowed = {c.layer for c in locals_}
        for a in convs:
            for b in sizes:
                yield (a, b)
            for b in locals_:
                yield (a, b)
        if cheap:
            for a in sizes:
                for b in locals_:
                    yield (a, b)
        if len(windowed) <= 6:
            for i, a in enumerate(locals_):
                for b in locals_[i + 1:]:
                    if a.layer != b.layer:
                        yield (a, b)
        if cheap and len(windowed) <= 2:
            # the grid a reader would try by hand
            pads = [c for c in locals_ if c.field == "padding"]
            for c in convs:
                for s in sizes:
                    for p in pads:
                        yield (c, s, p)

    def _singles(self, layers: list[Node], conv: Convention) -> Iterator[Change]:
        for name in self.graph.inputs:
            shape = name.op.shape  # type: ignore[attr-defined]
            if not shape.spatial:
                continue
            base = shape.spatial[0]
            square = all(s == base for s in shape.spatial)
            if not square:
                continue
            lo, hi = max(1, round(base * 0.67)), round(base * 1.34)
            for size in sorted(range(lo, hi + 1), key=lambda s: abs(s - base)):
                if size == base:
                    continue
                new = Shape((shape.channels, *(size,) * shape.rank))
                yield Change("input", f"input {new}", 1.0 + 0.01 * abs(size - base), name.name, "shape", new)
        for other in CONVENTIONS.values():
            if other.name != conv.name:
                # a global claim about the authors' framework: less plausible than one layer's typo
                yield Change("convention", f"convention {other.name}", 1.5, value=other)
        for node in layers:
            yield from self._arg_changes(node)
        for node in layers:
            if len(node.inputs) == 1 and not isinstance(node.op, Input) and node.op.arity == (1, 1):
                yield Change("drop", f"drop {node.name}", 3.0, node.name)
        for node in layers:
            if len(node.inputs) == 1:
                prev = self.graph[node.inputs[0]]
                if len(prev.inputs) == 1 and len(self.users.get(prev.name, ())) == 1 and \
                        not isinstance(prev.op, Input):
                    yield Change("swap", f"swap {prev.name} and {node.name}", 2.0, node.name, value=prev.name)

    def _scope_layers(self, scope: str | None) -> list[Node]:
        if scope is None:
            return list(self.nodes)
        names = self.ancestors.get(scope, set()) | {scope}
        return [n for n in self.nodes if n.name in names]

    def _arg_changes(self, node: Node) -> Iterator[Change]:
        op = node.op
        for f, spec in arg_fields(type(op)):
            current = getattr(op, f.name)
            if spec.kind == "padding" and f.name == "padding" and not isinstance(current, str):
                for p in range(0, 6):
                    new = ((p, p),)
                    if new != current:
                        yield Change("arg", f"{node.name} padding {p}", 1.0 + 0.1 * p, node.name, "padding", new)
                for p in range(0, 5):
                    new = ((p, p + 1),)
                    yield Change("arg", f"{node.name} padding {p}+{p + 1}", 1.2 + 0.1 * p, node.name, "padding", new)
            elif f.name == "stride" and isinstance(current, tuple) and len(set(current)) == 1:
                s = current[0]
                for new_s in range(max(1, s - 1), s + 2):
                    if new_s != s:
                        yield Change("arg", f"{node.name} stride {new_s}", 2.0, node.name, "stride", (new_s,))
            elif f.name == "kernel" and isinstance(current, tuple) and len(set(current)) == 1:
                k = current[0]
                for new_k in range(max(1, k - 2), k + 3):
                    if new_k != k:
                        yield Change("arg", f"{node.name} kernel {new_k}", 2.0 + 0.1 * abs(new_k - k), node.name,
                                     "kernel", (new_k,))
            elif f.name == "rounding":
                for new_r in ("floor", "ceil"):
                    if new_r != (current or ""):
                        yield Change("arg", f"{node.name} rounds {new_r}", 1.5, node.name, "rounding", new_r)
            elif f.name == "groups" and isinstance(current, int):
                for g in (1, 2):
                    if g != current:
                        yield Change("arg", f"{node.name} groups {g}", 2.0, node.name, "groups", g)
            elif f.name == "out" and isinstance(current, int) and spec.positional:
                for c in sorted(self.channel_numbers):
                    if c != current:
                        yield Change("arg", f"{node.name} out {c}", 2.5, node.name, "out", c)

    def _apply(self, changes: Sequence[Change], conv: Convention) -> _Variant | None:
        nodes = list(self.nodes)
        first = len(nodes)
        for change in changes:
            if change.kind == "convention":
                conv = change.value
                first = 0
            elif change.kind in ("input", "arg"):
                i = self.index[change.layer]
                node = self._changed_node(change)
                if node is None:
                    return None
                nodes[i] = node
                first = min(first, i)
            elif change.kind == "drop":
                i = self.index[change.layer]
                source = nodes[i].inputs[0]
                nodes = [replace(n, inputs=tuple(source if x == change.layer else x for x in n.inputs))
                         for n in nodes]
                del nodes[i]
                return _Variant(tuple(nodes), conv, min(first, i), rewired=True)
            elif change.kind == "swap":
                b = self.index[change.layer]
                a = self.index[change.value]
                node_a, node_b = nodes[a], nodes[b]
                new_b = replace(node_b, inputs=node_a.inputs)
                new_a = replace(node_a, inputs=(node_b.name,))
                nodes = [replace(n, inputs=tuple(node_a.name if x == node_b.name else x for x in n.inputs))
                         for n in nodes]
                nodes[a], nodes[b] = new_b, new_a
                return _Variant(tuple(nodes), conv, min(first, a), rewired=True)
        return _Variant(tuple(nodes), conv, first)

    def _changed_node(self, change: Change) -> Node | None:
        """The layer as ``change`` leaves it (built once per change; None if the change is invalid)."""
        if change.text in self._nodes_by_change:
            return self._nodes_by_change[change.text]
        old = self.graph[change.layer]
        node: Node | None
        if change.kind == "input":
            node = Node(old.name, Input(shape=change.value), (), old.train_only)
        else:
            try:
                node = replace(old, op=old.op.replace(**{change.field: change.value}))
            except NetarithError:
                node = None
        self._nodes_by_change[change.text] = node
        return node

    # -- numbers, notes ----------------------------------------------------------

    def _network_numbers(self) -> dict[int, str]:
        """Every number a reader sees in the network, with where it appears."""
        numbers: dict[int, str] = {}
        self.channel_numbers: set[int] = set()
        self.numbers_groups: set[int] = set()
        if self.report is None:
            return numbers
        for r in self.report.layers:
            dims = r.shape.dims
            numbers.setdefault(dims[0], f"{r.name}'s {dims[0]} channels")
            if r.node.op.weighted or isinstance(r.node.op, Input):
                self.channel_numbers.add(dims[0])
            for size in dims[1:]:
                numbers.setdefault(size, f"{r.name}'s {size}-wide map")
            op = r.node.op
            for name in ("kernel", "stride"):
                value = getattr(op, name, None)
                if isinstance(value, tuple):
                    for v in value:
                        numbers.setdefault(v, f"{r.name}'s {name} {v}")
            groups = getattr(op, "groups", 1)
            if isinstance(groups, int) and groups > 1:
                self.numbers_groups.add(groups)
                numbers.setdefault(groups, f"{r.name}'s {groups} groups")
                inputs = self.report[r.inputs[0]].shape.channels if r.inputs else 0
                if inputs:
                    numbers.setdefault(inputs // groups, f"{r.name}'s {inputs // groups} input channels per group")
                numbers.setdefault(dims[0] // groups, f"{r.name}'s {dims[0] // groups} kernels per group")
        numbers.pop(1, None)
        return numbers

    def _ancestors(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for node in self.nodes:
            acc: set[str] = set()
            for name in node.inputs:
                acc |= out[name] | {name}
            out[node.name] = acc
        return out

    def _facts(self, claim: Claim, computed: Computed | None) -> list[str]:
        """Arithmetic facts a reader would check by hand."""
        notes: list[str] = []
        if claim.quantity != "neurons" or claim.layer == "totals" or claim.value.number is None:
            return notes
        assert self.report is not None
        target = claim.value.number
        shape = self.report[claim.layer].shape
        c = shape.channels
        if target.denominator == 1 and shape.rank == 2:
            per_map = Fraction(target, c)
            if per_map.denominator != 1:
                notes.append(f"{int(target):,} / {c} channels = {float(per_map):g} is not a whole map")
                return notes
            side = math.isqrt(int(per_map))
            if side * side != per_map:
                notes.append(f"{int(target):,} / {c} = {int(per_map):,} is not a square: no square map of {c} "
                             "channels gives it")
            else:
                notes.append(f"{int(target):,} / {c} = {int(per_map):,} = {side}x{side}: a {side}x{side} map")
            width = shape.spatial[1]
            if per_map % width == 0 and per_map != width * shape.spatial[0]:
                notes.append(f"{int(per_map):,} = {int(per_map) // width} x {width} would need a "
                             f"{int(per_map) // width}x{width} map")
        return notes

    def _near_notes(self, result: ClaimResult) -> list[str]:
        """For totals: the paper's own per-layer figures, and what the figure is not."""
        claim = result.claim
        if claim.layer != "totals" or self.report is None:
            return []
        notes = []
        same = [c for c in self.claims if c.quantity == claim.quantity and c.layer not in ("totals", "input")
                and c.value.number is not None]
        if len(same) >= 2:
            total = sum(c.value.number for c in same if c.value.number is not None)
            verdict = claim.value.verdict(int(total)) if total.denominator == 1 else "mismatch"
            notes.append(f"the paper's own per-layer {claim.quantity} sum to {_show(int(total))}, which "
                         + ("also gives" if verdict in REPRODUCES else "does not give") + f" {claim.value.text}")
            swaps = []
            corrected = total
            for c in same:
                value = _safe_value(self.report, c)
                if isinstance(value, int) and c.value.number is not None and value != c.value.number:
                    swaps.append(f"{c.layer}'s {value:,} in place of {c.value.text}")
                    corrected += value - c.value.number
            if swaps and corrected.denominator == 1:
                verdict = claim.value.verdict(int(corrected))
                notes.append(f"with {', '.join(swaps)} they sum to {int(corrected):,}, which "
                             + ("gives" if verdict in REPRODUCES else "does not give") + f" {claim.value.text}")
        if claim.quantity == "neurons":
            t = self.report.totals
            notes.append(f"it is not the count of every layer's outputs ({t.activations:,}) nor of the input "
                         f"and the weighted layers ({t.neurons + self.report.input.numel:,})")
        return notes

    def searched_note(self, claim: Claim) -> str:
        scope = claim.layer if claim.layer != "totals" else None
        layers = [n.name for n in self._window(scope) if any(
            f.name in ("padding", "stride", "kernel") for f, _ in arg_fields(type(n.op)))]
        if self._needs_channels(claim) and self.report is not None:
            result = self.report[claim.layer]
            return (
                f"no architecture change found: no input size, padding, stride, kernel or rounding "
                f"convention can give {claim.value.text} (no square input of any size, with any padding, "
                f"under any of the {len(CONVENTIONS)} conventions), since each keeps {claim.layer}'s maps square and "
                f"{claim.value.text} / {result.shape.channels} is not a square number; channel counts "
                f"of {claim.layer} taken from the network ({', '.join(map(str, sorted(self.channel_numbers)))}) "
                "give it neither"
            )
        inputs = [n.op for n in self.graph.inputs]
        sizes = ""
        if inputs and inputs[0].shape.spatial:  # type: ignore[attr-defined]
            base = inputs[0].shape.spatial[0]  # type: ignore[attr-defined]
            sizes = f"square inputs {max(1, round(base * 0.67))} to {round(base * 1.34)}, "
        return (
            f"no architecture change found: searched {sizes}padding 0 to 5, strides, kernels, channels and "
            f"groups of {', '.join(layers) or 'the layers'}, dropped and swapped layers, and the "
            f"{len(CONVENTIONS)} conventions ({', '.join(CONVENTIONS)}), alone, in pairs, and "
            "input x padding x convention"
        )

    def _share_global(self, results: list[ClaimResult]) -> list[ClaimResult]:
        """An architecture change that explains several mismatches at once ranks first in each."""
        mismatched = [r for r in results if r.verdict not in REPRODUCES and r.verdict != "not computed"]
        if len(mismatched) < 2:
            return results
        candidates: dict[tuple[str, ...], float] = {}
        for r in mismatched:
            for e in r.explanations:
                if e.family == "architecture" and not e.breaks:
                    candidates.setdefault(e.changes, e.cost)
        scores: dict[tuple[str, ...], int] = {}
        for changes in candidates:
            parsed = [self._by_text.get(t) for t in changes]
            if any(p is None for p in parsed):
                continue
            variant = self._apply(tuple(p for p in parsed if p is not None), self.conv)
            report = self._full(variant) if variant else None
            if report is None:
                continue
            scores[changes] = sum(1 for r in mismatched if _safe_verdict(report, r.claim) in REPRODUCES)
        out = []
        for r in results:
            if r not in mismatched:
                out.append(r)
                continue
            ranked = []
            for e in r.explanations:
                fixed = scores.get(e.changes, 0) if e.family == "architecture" else 0
                if fixed > 1:
                    e = replace(e, cost=e.cost - 0.5 * fixed,
                                text=e.text + f" (this one change explains {fixed} of the "
                                f"{len(mismatched)} mismatches)")
                ranked.append(e)
            out.append(replace(r, explanations=tuple(_rank(ranked))))
        return out


# ---------------------------------------------------------------------------- helpers


def _layer_quantity(shape: Shape, out: Out, quantity: str) -> Computed:
    if quantity == "shape":
        return shape.dims
    if quantity == "neurons":
        return shape.numel
    if quantity == "flops":
        return 2 * out.macs
    if quantity == "connections":
        return out.macs + out.extras.get("bias", 0) if out.connections is None else out.connections
    value: int = getattr(out, quantity)
    return value


def _total(outs: dict[str, tuple[Shape, Out]], quantity: str, variant: _Variant) -> int | None:
    by_name = {n.name: n for n in variant.nodes}
    if quantity == "neurons":
        return sum(s.numel for name, (s, _) in outs.items() if type(by_name[name].op).weighted)
    if quantity == "activations":
        return sum(s.numel for s, _ in outs.values())
    if quantity in ("params", "trainable_params"):
        return sum(o.params if quantity == "params" or o.trainable is None else o.trainable
                   for _, o in outs.values())
    if quantity in ("macs", "flops"):
        macs = sum(o.macs for name, (_, o) in outs.items() if not by_name[name].train_only)
        return macs if quantity == "macs" else 2 * macs
    if quantity == "buffers":
        return sum(o.buffers for _, o in outs.values())
    if quantity == "connections":
        return sum(_layer_quantity(s, o, "connections") for s, o in outs.values())  # type: ignore[misc]
    return None


def _bias_params(op: Op, shape: Shape) -> int:
    if getattr(op, "bias", False) is True and getattr(op, "weighted", False):
        return shape.channels if len(shape.dims) > 1 else shape.dims[-1]
    return 0


def _safe_value(report: Report, claim: Claim) -> Computed | None:
    try:
        return figure_value(report, claim)
    except NetarithError:
        return None


def _safe_verdict(report: Report, claim: Claim) -> str:
    value = _safe_value(report, claim)
    return "mismatch" if value is None else claim.value.verdict(value)


def _rank(explanations: Iterable[Explanation]) -> list[Explanation]:
    seen: set[tuple[str, tuple[str, ...]]] = set()
    out = []
    for e in sorted(explanations, key=lambda e: (e.cost, len(e.changes), e.text)):
        key = (e.family, e.changes)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def _describe(changes: Sequence[Change]) -> str:
    return " and ".join(c.prose for c in changes)


def _show(value: Computed | None) -> str:
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return "?" if value is None else f"{value:,}"


def _rounding_note(value: Value, computed: Computed | None) -> str:
    unit = _show(int(value.unit)) if value.unit.denominator == 1 else str(float(value.unit))
    if value.verdict(computed or 0) == "rounds down":
        return f"{_show(computed)} rounded down to a multiple of {unit} is {value.text}"
    return f"{_show(computed)} to the nearest {unit} is {value.text}"

