"""Framed messages over a pair of pipe file descriptors, with deadlines and size limits.

Frame: b"DLCC" + u64 payload length + payload. The trusted side (the grading harness) reads
with a deadline and a maximum size, so a stuck or hostile sandbox can neither hang it nor make
it allocate without bound. The sandbox side uses the same functions without a deadline.
"""

from __future__ import annotations

import os
import select
import struct
import time

MAGIC = b"DLCC"
_FRAME = struct.Struct("!4sQ")


class ChannelError(Exception):
    """Base: the other side did not answer properly."""


class ChannelClosed(ChannelError):
    """The other side closed the pipe (usually: its process ended)."""


class ChannelTimeout(ChannelError):
    """No complete message before the deadline."""


class ChannelCorrupt(ChannelError):
    """Bytes that are not a valid frame, or a frame larger than allowed."""


def send(fd: int, payload: bytes, deadline: float | None = None) -> None:
    """Write one frame. With a deadline (time.monotonic()), raise ChannelTimeout when it passes."""
    data = memoryview(_FRAME.pack(MAGIC, len(payload)) + payload)
    while data:
        _wait(fd, deadline, write=True)
        try:
            n = os.write(fd, data[:1 << 20])
        except BrokenPipeError:
            raise ChannelClosed("the other side closed the channel") from None
        data = data[n:]


def recv(fd: int, deadline: float | None = None, max_bytes: int = 1 << 30) -> bytes:
    """Read one frame and return its payload."""
    head = _read_exact(fd, _FRAME.size, deadline)
    magic, size = _FRAME.unpack(head)
    if magic != MAGIC:
        raise ChannelCorrupt(f"unexpected bytes on the channel: {head[:8]!r}")
    if size > max_bytes:
        raise ChannelCorrupt(f"message of {size:,} bytes exceeds the limit of {max_bytes:,} bytes")
    return _read_exact(fd, size, deadline)


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, left = [], size
    while left:
        _wait(fd, deadline, write=False)
        chunk = os.read(fd, min(left, 1 << 22))
        if not chunk:
            raise ChannelClosed("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _wait(fd: int, deadline: float | None, write: bool) -> None:
    if deadline is None:
        return
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ChannelTimeout("deadline passed")
        ready = select.select([], [fd], [], left) if write else select.select([fd], [], [], left)
        if ready[1 if write else 0]:
            return
