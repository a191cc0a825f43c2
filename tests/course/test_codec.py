"""The wire format between grader and sandbox: exact round trips, and hostile payloads refused."""

import argparse
import json
import struct

import numpy as np
import pytest

from dlcc.course.sandbox import channel
from dlcc.course.sandbox import codec


def test_roundtrip_keeps_types_and_values():
    value = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": (1, 2.5, None, True),
             3: [np.int64(7), np.float64("nan"), float("inf"), "text", b"\x00\x01"],
             "ns": argparse.Namespace(lr=0.1, sizes=[3, 4]), "big": 2**80, "c": np.complex128(1 + 2j)}
    out = codec.roundtrip(value)
    assert out["a"].dtype == np.float32 and out["a"].shape == (2, 3)
    np.testing.assert_array_equal(out["a"], value["a"])
    assert out["b"] == (1, 2.5, None, True) and isinstance(out["b"], tuple)
    assert isinstance(out[3][0], np.int64) and out[3][0] == 7
    assert np.isnan(out[3][1]) and out[3][2] == float("inf") and out[3][3:] == ["text", b"\x00\x01"]
    assert out["ns"] == argparse.Namespace(lr=0.1, sizes=[3, 4])
    assert out["big"] == 2**80 and out["c"] == 1 + 2j


def test_roundtrip_is_a_copy():
    arr = np.zeros(3)
    out = codec.roundtrip({"x": arr})
    out["x"][0] = 5
    assert arr[0] == 0


def test_unencodable_values_are_refused_or_kept():
    with pytest.raises(codec.CodecError, match="cannot send a value of type object"):
        codec.encode(object())
    with pytest.raises(codec.CodecError, match="dtype object"):
        codec.encode(np.array([object()]))
    kept = []

    def keep(v):
        kept.append(v)
        return codec.Ref(len(kept), type(v).__name__)

    out = codec.roundtrip({"f": len}, keep=keep)
    assert out["f"] == codec.Ref(1, "builtin_function_or_method") and kept == [len]


def _payload(tree, buffers=()):
    header = json.dumps({"v": tree, "b": [len(b) for b in buffers]}).encode()
    return struct.pack("!I", len(header)) + header + b"".join(buffers)


@pytest.mark.parametrize("data, match", [
    (b"", "shorter"),
    (struct.pack("!I", 99) + b"{}", "header length"),
    (struct.pack("!I", 3) + b"{{{", "not valid JSON"),
    (_payload({"__array": 0, "dtype": "|O", "shape": [1]}, [b"\x00" * 8]), "refused dtype"),
    (_payload({"__array": 0, "dtype": "<f8", "shape": [10**6]}, [b"\x00" * 8]), "does not match"),
    (_payload({"__array": 0, "dtype": "<f8", "shape": [-1]}, [b"\x00" * 8]), "bad shape"),
    (_payload({"__array": 5, "dtype": "<f8", "shape": [1]}, [b"\x00" * 8]), "bad buffer index"),
    (_payload({"__evil": 1}), "unknown node"),
    (_payload({"__float": "1e999999"}), "bad float"),
    (_payload({"__ns": {"__dict": [[1, 2]]}}), "bad namespace"),
    (_payload([[[[[[]]]]]] * 1), None),
])
def test_hostile_payloads_raise_codec_error(data, match):
    if match is None:
        assert codec.decode(data) == [[[[[[]]]]]]
        return
    with pytest.raises(codec.CodecError, match=match):
        codec.decode(data)


def test_nesting_and_element_limits():
    deep = {"__tuple": []}
    for _ in range(200):
        deep = {"__tuple": [deep]}
    with pytest.raises(codec.CodecError, match="nested deeper"):
        codec.decode(_payload(deep))
    with pytest.raises(codec.CodecError, match="too many elements"):
        codec.decode(codec.encode(np.zeros(100)), max_elements=10)


def test_channel_frames_sizes_and_timeouts():
    import os
    import time

    def pipe_with(data: bytes):
        r, w = os.pipe()
        os.write(w, data)
        return r, w

    r, w = os.pipe()
    channel.send(w, b"hello")
    assert channel.recv(r, time.monotonic() + 1) == b"hello"
    with pytest.raises(channel.ChannelTimeout):
        channel.recv(r, time.monotonic() + 0.05)
    os.close(w)
    with pytest.raises(channel.ChannelClosed):
        channel.recv(r, time.monotonic() + 1)
    os.close(r)
    r, w = pipe_with(b"DLCC" + struct.pack("!Q", 100) + b"x" * 100)
    with pytest.raises(channel.ChannelCorrupt, match="exceeds the limit"):
        channel.recv(r, time.monotonic() + 1, max_bytes=10)
    r, w = pipe_with(b"NOPE" + b"\x00" * 8)
    with pytest.raises(channel.ChannelCorrupt, match="unexpected bytes"):
        channel.recv(r, time.monotonic() + 1)
