"""Read an ONNX file without its weights.

An ONNX model is one protobuf message; its weights are the payloads of TensorProto
messages (``raw_data``, ``float_data`` ...) inside it, or in external files named by
the tensor. :func:`strip` walks the protobuf wire format (varint tags, length-delimited
fields) of a memory-mapped file and copies every byte except the payloads of tensors
with more than ``keep`` elements, which it skips without reading: the result parses as
an ordinary ``onnx.ModelProto`` whose large tensors have their dims and type but no
data. Small tensors keep their data, because reshape targets, pads and scales live
there. External data files are never opened. Field numbers come from onnx's own
message descriptors, so the walk follows whatever onnx version is installed.

Wire format: https://protobuf.dev/programming-guides/encoding/ (tag = field << 3 | type;
type 0 varint, 1 eight bytes, 2 length-delimited, 5 four bytes; 3 and 4 are groups,
which ONNX does not use).
"""

from __future__ import annotations

import math
import mmap
from pathlib import Path

from ..errors import SourceError

TYPE_CHECKING = False  # typing's constant, without importing typing at run time (start-up)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["KEEP", "strip"]

#: Tensors with at most this many elements keep their data (shape tensors, scales, pads).
KEEP = 1024

_DATA_FIELDS = ("float_data", "int32_data", "string_data", "int64_data", "raw_data",
                "double_data", "uint64_data")


class _Schema:
    """What the walk needs to know about onnx's messages."""

    def __init__(self, onnx: Any) -> None:
        self.model = onnx.ModelProto.DESCRIPTOR
        self.tensor = onnx.TensorProto.DESCRIPTOR
        self.dims = self.tensor.fields_by_name["dims"].number
        self.data = {self.tensor.fields_by_name[n].number for n in _DATA_FIELDS
                     if n in self.tensor.fields_by_name}
        self.reaching = self._reaching()

    def _reaching(self) -> set[str]:
        """Full names of the messages that can contain a TensorProto, however deep."""
        children: dict[str, set[str]] = {}
        stack = [self.model]
        while stack:
            desc = stack.pop()
            if desc.full_name in children:
                continue
            kids = {f.message_type for f in desc.fields if f.message_type is not None}
            children[desc.full_name] = {k.full_name for k in kids}
            stack.extend(kids)
        reach = {self.tensor.full_name}
        grew = True
        while grew:
            grew = False
            for name, kids in children.items():
                if name not in reach and kids & reach:
                    reach.add(name)
                    grew = True
        return reach


class _Walk:
    def __init__(self, buf: Any, schema: _Schema, keep: int, source: str) -> None:
        self.buf = buf
        self.schema = schema
        self.keep = keep
        self.source = source
        self.stripped = 0

    def fail(self, pos: int, why: str) -> SourceError:
        return SourceError(f"{self.source}: byte {pos}: not a valid ONNX model ({why})")

    def varint(self, pos: int, end: int) -> tuple[int, int]:
        buf = self.buf
        value = shift = 0
        while True:
            if pos >= end:
                raise self.fail(pos, "the file ends inside a number")
            byte = buf[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value, pos
            shift += 7
            if shift > 63:
                raise self.fail(pos, "a number longer than ten bytes")

    def fields(self, start: int, end: int) -> Any:
        """Yield (field number, wire type, field start, payload start, field end)."""
        pos = start
        while pos < end:
            tag, body = self.varint(pos, end)
            number, wire = tag >> 3, tag & 7
            if number == 0:
                raise self.fail(pos, "field number 0")
            if wire == 0:
                _, after = self.varint(body, end)
            elif wire == 1:
                after = body + 8
            elif wire == 5:
                after = body + 4
            elif wire == 2:
                length, body = self.varint(body, end)
                after = body + length
            else:
                raise self.fail(pos, f"wire type {wire}, which ONNX does not use")
            if after > end:
                raise self.fail(pos, f"field {number} runs past the end of its message: is the file truncated?")
            yield number, wire, pos, body, after
            pos = after

    def message(self, start: int, end: int, desc: Any) -> list[Any]:
        """The message's bytes with large tensor payloads left out, as a list of chunks."""
        if desc.full_name == self.schema.tensor.full_name:
            return self.tensor(start, end)
        out: list[Any] = []
        copy_from = start
        for number, wire, field_start, body, after in self.fields(start, end):
            f = desc.fields_by_number.get(number)
            if f is None or f.message_type is None or f.message_type.full_name not in self.schema.reaching:
                continue
            if wire != 2:
                raise self.fail(field_start, f"{desc.name}.{f.name} should be a message")
            inner = self.message(body, after, f.message_type)
            size = sum(len(c) for c in inner)
            if size == after - body:
                continue  # unchanged: copied with its neighbours
            out.append(self.buf[copy_from:field_start])
            out.append(_varint_bytes((number << 3) | 2) + _varint_bytes(size))
            out.extend(inner)
            copy_from = after
        out.append(self.buf[copy_from:end])
        return out

    def tensor(self, start: int, end: int) -> list[Any]:
        dims: list[int] = []
        for number, wire, _, body, after in self.fields(start, end):
            if number != self.schema.dims:
                continue
            if wire == 0:
                dims.append(self.varint(body, after)[0])
            elif wire == 2:  # packed
                pos = body
                while pos < after:
                    value, pos = self.varint(pos, after)
                    dims.append(value)
        signed = [d - (1 << 64) if d >= 1 << 63 else d for d in dims]
        if all(d >= 0 for d in signed) and math.prod(signed) <= self.keep:
            return [self.buf[start:end]]
        self.stripped += 1
        out: list[Any] = []
        copy_from = start
        for number, _, field_start, _, after in self.fields(start, end):
            if number in self.schema.data:
                out.append(self.buf[copy_from:field_start])
                copy_from = after
        out.append(self.buf[copy_from:end])
        return out


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def strip(path: Path, onnx: Any, *, keep: int = KEEP) -> tuple[bytes, int]:
    """The model in ``path`` serialised without the data of tensors above ``keep`` elements,
    and how many tensors lost their data. The skipped bytes are never read from disk."""
    try:
        with path.open("rb") as f:
            size = path.stat().st_size
            if size == 0:
                raise SourceError(f"{path}: the file is empty, not an ONNX model")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                walk = _Walk(mapped, _Schema(onnx), keep, str(path))
                chunks = walk.message(0, size, walk.schema.model)
                return b"".join(bytes(c) for c in chunks), walk.stripped
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None
