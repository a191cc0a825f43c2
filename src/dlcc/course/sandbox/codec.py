"""A safe wire format for values crossing the sandbox boundary.

The grader never unpickles anything that came from student code: unpickling is code execution.
Instead values are encoded as a JSON tree plus raw array buffers:

    payload = [u32 header length][JSON header][buffer 0][buffer 1]...

Supported values: None, bool, int, float (incl. nan/inf), str, bytes, list, tuple, dict (any
encodable keys), numpy arrays and scalars of numeric/bool dtypes, argparse.Namespace, and
`Ref` (a handle to a value that stays on the other side). Everything else is refused by
`encode`, or, with `keep=...`, stored on the sending side and sent as a `Ref`.

`decode` treats its input as hostile: it checks dtypes (no object arrays), shapes, buffer
sizes and nesting depth, and raises `CodecError` instead of building anything unexpected.
"""

from __future__ import annotations

import argparse
import json
import math
import struct
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

MAX_DEPTH = 64
_U32 = struct.Struct("!I")
_ALLOWED_KINDS = {"b", "i", "u", "f", "c"}


class CodecError(ValueError):
    """A value cannot be encoded, or a payload is malformed."""


@dataclass(frozen=True)
class Ref:
    """A handle to a value kept by the other side (e.g. a dataset left in the sandbox).

    `generation` identifies the sandbox process that holds it; a restarted sandbox no longer
    has the value.
    """

    id: int
    type_name: str = "object"
    generation: int = 0

    def __repr__(self) -> str:
        return f"<remote {self.type_name} #{self.id}>"


def encode(value: Any, keep: Callable[[Any], Ref] | None = None) -> bytes:
    """Encode `value` to bytes. Unencodable objects go through `keep` (or raise CodecError)."""
    buffers: list[bytes] = []
    tree = _enc(value, buffers, keep, 0)
    header = json.dumps({"v": tree, "b": [len(b) for b in buffers]}).encode("utf-8")
    return b"".join([_U32.pack(len(header)), header, *buffers])


def decode(data: bytes, max_elements: int = 10**9) -> Any:
    """Decode bytes made by `encode`. Raises CodecError on anything malformed."""
    if len(data) < 4:
        raise CodecError("payload shorter than its header")
    (hlen,) = _U32.unpack_from(data)
    if hlen > len(data) - 4:
        raise CodecError("header length exceeds payload")
    try:
        header = json.loads(data[4:4 + hlen].decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"header is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(header, dict) or not isinstance(header.get("b"), list):
        raise CodecError("header lacks a buffer table")
    sizes = header["b"]
    if not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise CodecError("bad buffer sizes")
    if sum(sizes) != len(data) - 4 - hlen:
        raise CodecError("buffer sizes do not match the payload length")
    views, offset = [], 4 + hlen
    for size in sizes:
        views.append(memoryview(data)[offset:offset + size])
        offset += size
    budget = [max_elements]
    return _dec(header.get("v"), views, budget, 0)


# --------------------------------------------------------------------------- encoding

def _enc(value: Any, buffers: list[bytes], keep, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, (np.ndarray, np.generic)):  # first: np.float64 is also a float
        return _enc_array(value, buffers, keep)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value) if abs(value) < 2**63 else {"__bigint": str(int(value))}
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"__float": str(float(value))}
    if isinstance(value, Ref):
        return {"__ref": value.id, "type": value.type_name, "gen": value.generation}
    if isinstance(value, (bytes, bytearray)):
        buffers.append(bytes(value))
        return {"__bytes": len(buffers) - 1}
    if isinstance(value, list):
        return [_enc(v, buffers, keep, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"__tuple": [_enc(v, buffers, keep, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"__dict": [[_enc(k, buffers, keep, depth + 1), _enc(v, buffers, keep, depth + 1)]
                           for k, v in value.items()]}
    if isinstance(value, argparse.Namespace):
        return {"__ns": _enc(vars(value), buffers, keep, depth + 1)}
    if keep is not None:
        return _enc(keep(value), buffers, None, depth)
    raise CodecError(f"cannot send a value of type {type(value).__name__}; use numpy arrays, "
                     "numbers, strings, lists, tuples or dicts")


def _enc_array(value, buffers: list[bytes], keep) -> Any:
    arr = np.asarray(value)
    if arr.dtype.kind not in _ALLOWED_KINDS:
        if keep is not None:
            return _enc(keep(value), buffers, None, 0)
        raise CodecError(f"cannot send a numpy array of dtype {arr.dtype} (only numbers and bools)")
    scalar = isinstance(value, np.generic)
    arr = arr.copy(order="C") if not arr.flags.c_contiguous else arr  # keeps 0-d arrays 0-d
    buffers.append(arr.tobytes())
    return {"__array": len(buffers) - 1, "dtype": arr.dtype.str, "shape": list(arr.shape),
            "scalar": scalar}


# --------------------------------------------------------------------------- decoding

def _dec(node: Any, views: list[memoryview], budget: list[int], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
    budget[0] -= 1
    if budget[0] < 0:
        raise CodecError("value has too many elements")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_dec(v, views, budget, depth + 1) for v in node]
    if not isinstance(node, dict) or len(node) == 0:
        raise CodecError("unknown node in payload")
    if "__tuple" in node:
        return tuple(_dec(v, views, budget, depth + 1) for v in _as_list(node["__tuple"]))
    if "__dict" in node:
        out = {}
        for pair in _as_list(node["__dict"]):
            if not isinstance(pair, list) or len(pair) != 2:
                raise CodecError("bad dict entry")
            key = _dec(pair[0], views, budget, depth + 1)
            try:
                out[key] = _dec(pair[1], views, budget, depth + 1)
            except TypeError:
                raise CodecError("unhashable dict key") from None
        return out
    if "__array" in node:
        return _dec_array(node, views, budget)
    if "__float" in node:
        text = node["__float"]
        if text not in ("nan", "inf", "-inf"):
            raise CodecError("bad float")
        return float(text)
    if "__bigint" in node:
        try:
            return int(str(node["__bigint"])[:5000])
        except ValueError:
            raise CodecError("bad integer") from None
    if "__bytes" in node:
        return bytes(_view(views, node["__bytes"]))
    if "__ns" in node:
        fields = _dec(node["__ns"], views, budget, depth + 1)
        if not isinstance(fields, dict) or not all(isinstance(k, str) for k in fields):
            raise CodecError("bad namespace")
        return argparse.Namespace(**fields)
    if "__ref" in node:
        if not isinstance(node["__ref"], int) or not isinstance(node.get("gen", 0), int):
            raise CodecError("bad reference")
        return Ref(node["__ref"], str(node.get("type", "object"))[:100], node.get("gen", 0))
    raise CodecError("unknown node in payload")


def _as_list(node) -> list:
    if not isinstance(node, list):
        raise CodecError("expected a list in payload")
    return node


def _view(views: list[memoryview], index) -> memoryview:
    if not isinstance(index, int) or not 0 <= index < len(views):
        raise CodecError("bad buffer index")
    return views[index]


def _dec_array(node: dict, views: list[memoryview], budget: list[int]):
    dtype_text, shape = node.get("dtype"), node.get("shape")
    if not isinstance(dtype_text, str) or len(dtype_text) > 8:
        raise CodecError("bad dtype")
    try:
        dtype = np.dtype(dtype_text)
    except TypeError:
        raise CodecError(f"bad dtype {dtype_text!r}") from None
    if dtype.kind not in _ALLOWED_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise CodecError(f"refused dtype {dtype_text!r}")
    if not isinstance(shape, list) or len(shape) > 32 or \
            not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise CodecError("bad shape")
    count = math.prod(shape)
    budget[0] -= count
    if budget[0] < 0:
        raise CodecError("value has too many elements")
    view = _view(views, node["__array"])
    if len(view) != count * dtype.itemsize:
        raise CodecError("array buffer size does not match its shape")
    arr = np.frombuffer(view, dtype=dtype).reshape(shape).copy()
    return arr[()] if node.get("scalar") else arr


def resolve(value: Any, lookup: Callable[[Ref], Any]) -> Any:
    """`value` with every Ref in it (at any depth of lists, tuples, dicts) replaced by
    lookup(ref): how the side that keeps values turns handles back into them."""
    if isinstance(value, Ref):
        return lookup(value)
    if isinstance(value, list):
        return [resolve(v, lookup) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v, lookup) for v in value)
    if isinstance(value, dict):
        return {k: resolve(v, lookup) for k, v in value.items()}
    return value


def roundtrip(value: Any, keep: Callable[[Any], Ref] | None = None) -> Any:
    """Encode and decode: a deep copy with exactly the semantics of the sandbox channel."""
    return decode(encode(value, keep))
