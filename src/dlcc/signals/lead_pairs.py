"""Segments of two ECG leads for unpaired translation (the `ecg-lead-cyclegan` recipe).

MIT-BIH records carry two leads; 13 of the 16 shared records have MLII and V1. CycleGAN learns
a translation MLII -> V1 from *unpaired* data, so the default split takes each lead from
different records - MLII from six records, V1 from five others - and the model never sees the
two leads of one heart at one time. The remaining records keep both leads: one for validation
and four for the test, where the translated MLII is compared with the V1 that was recorded at
the same moment (the pairs exist in MIT-BIH, so the translation error can be measured).

Every lead is cleaned as the beats are (`dlcc.signals.beats.clean_lead`: 0.5 Hz high-pass,
z-scored per record).
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import DataError
from dlcc.signals.beats import clean_lead

LEADS = ("MLII", "V1")
SOURCE_RECORDS = ["100", "101", "103", "106", "108", "114"]     # their MLII only
TARGET_RECORDS = ["105", "109", "119", "200", "210"]            # their V1 only
VAL_RECORDS = ["203"]                                           # pairs, for the curves
TEST_RECORDS = ["116", "201", "208", "233"]                     # pairs, evaluated once


def _cut(lead: np.ndarray, length: int, hop: int) -> np.ndarray:
    starts = np.arange(0, len(lead) - length + 1, hop)
    return lead[starts[:, None] + np.arange(length)[None, :]]


def lead_segments(records, lead: str, length: int = 512, hop: int = 256, data_dir=None) -> np.ndarray:
    """float32 `[n, length]`: windows every `hop` samples of the cleaned `lead` of each record."""
    from dlcc.data import load_mitbih

    parts = [_cut(clean_lead(rec.signal[:, 0], rec.fs), length, hop)
             for rec in load_mitbih(records, data_dir=data_dir, leads=[lead])]
    if not parts:
        raise DataError(f"no records given for lead {lead}", fix="list at least one MIT-BIH record")
    return np.concatenate(parts).astype(np.float32)


def paired_segments(records, leads=LEADS, length: int = 512, hop: int = 512, data_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """float32 `[n, 2, length]` windows of both leads at the same samples, and the record name
    of each `[n]`."""
    from dlcc.data import load_mitbih

    segments, names = [], []
    for rec in load_mitbih(records, data_dir=data_dir, leads=list(leads)):
        both = np.stack([_cut(clean_lead(rec.signal[:, i], rec.fs), length, hop) for i in range(len(leads))], axis=1)
        segments.append(both)
        names += [rec.name] * len(both)
    if not segments:
        raise DataError("no records given for the paired segments", fix="list at least one MIT-BIH record")
    return np.concatenate(segments).astype(np.float32), np.array(names)
