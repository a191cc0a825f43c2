"""Read the records of an offline wandb run (`run-<id>.wandb`) without wandb's sync tooling.

The file is wandb's LevelDB-style log: a 7-byte header (":W&B", magic 0xBEE1, version 0),
then 32 KiB blocks of chunks, each with a 7-byte header (crc32 u32, length u16, type u8;
type 1 = whole record, 2/3/4 = first/middle/last piece). Each record is a protobuf
`wandb_internal_pb2.Record`.
"""

from __future__ import annotations

import struct
from pathlib import Path

BLOCK = 32 * 1024
HEADER = 7


def read_records(path: str | Path) -> list:
    from wandb.proto import wandb_internal_pb2 as pb

    data = Path(path).read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a wandb log"
    pos, pending, records = HEADER, b"", []
    while pos + HEADER <= len(data):
        left_in_block = BLOCK - pos % BLOCK
        if left_in_block < HEADER:  # block trailer padding
            pos += left_in_block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + HEADER])
        chunk = data[pos + HEADER:pos + HEADER + length]
        pos += HEADER + length
        if kind == 0 and length == 0:
            continue
        pending += chunk
        if kind in (1, 4):  # full record, or last piece of one
            record = pb.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def history(path: str | Path) -> list[dict]:
    """Rows logged with run.log: [{key: value (JSON text), '_step': ...}, ...]."""
    import json

    rows = []
    for record in read_records(path):
        if record.WhichOneof("record_type") == "history":
            row = {}
            for item in record.history.item:
                key = item.key or "/".join(item.nested_key)
                row[key] = json.loads(item.value_json)
            rows.append(row)
    return rows


def config(path: str | Path) -> dict:
    """The run config as {key: value}, merged over all config records."""
    import json

    out = {}
    for record in read_records(path):
        kind = record.WhichOneof("record_type")
        updates = record.config.update if kind == "config" else record.run.config.update if kind == "run" else []
        for item in updates:
            key = item.key or "/".join(item.nested_key)
            out[key] = json.loads(item.value_json)
    return out
