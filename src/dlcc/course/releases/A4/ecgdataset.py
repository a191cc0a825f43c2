"""A4, trigger detection: training examples cut from long ECG records.

A record is minutes long; the model reads chunks of `chunk_length` samples. For every record,
`num_starts` start positions are drawn (the first is always 0); from each start the record is
cut into consecutive chunks, the last one moved back so that it ends with the record. Each
epoch therefore covers every record `num_starts` times, with different chunk boundaries.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


class ECGDataset(Dataset):
    """Args:
        records: dicts with "signal" float32 [T, C] (z-scored leads) and "trigger" float32 [T]
            (1 at R-peak samples, else 0), as util.load_records returns.
        chunk_length: samples per item; records shorter than this are skipped.
        num_starts: start positions per record (see above).
        transform: None, or a callable applied to the trigger chunk (a NumPy array [L]),
            e.g. util.SmoothingTrigger(sigma) for soft targets.

    Attributes: records (the kept ones), chunks: a list of (record index, start sample).

    Items: dataset[i] is (wave, trigger, (record index, start)) for chunk i: wave float32
    tensor [chunk_length, C], trigger float32 tensor [chunk_length] (after the transform).
    """

    def __init__(self, records: list[dict], chunk_length: int = 1024, num_starts: int = 5, transform=None,
                 seed: int = 0):
        self.chunk_length, self.transform = chunk_length, transform
        self.records = [r for r in records if len(r["signal"]) >= chunk_length]
        rng = np.random.default_rng(seed)
        self.chunks = []
        for index, record in enumerate(self.records):
            T = len(record["signal"])
            peaks = np.flatnonzero(record["trigger"] > 0)
            lo, hi = (int(peaks[0]), int(peaks[-1])) if len(peaks) else (0, T - 1)
            starts = [0] + [int(s) for s in rng.integers(lo, max(lo, min(hi, T - chunk_length)) + 1,
                                                         size=num_starts - 1)]
            for start in starts:
                for s in range(start, T, chunk_length):
                    self.chunks.append((index, min(s, T - chunk_length)))

    def __len__(self) -> int:
        # TODO (A4.6): your code here
        raise NotImplementedError("A4.6: this part of __len__() is not implemented yet")

    def __getitem__(self, i: int):
        # TODO (A4.6): your code here
        # HINT: self.chunks[i] says where chunk i is; slice the signal and the trigger there
        raise NotImplementedError("A4.6: this part of __getitem__() is not implemented yet")
        return item
