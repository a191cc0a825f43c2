"""Physiological signals (ECG) for trigger detection: preparation, training chunks, detection,
and two classical QRS detectors to compare against.

    rec = prepare_record(record)                     # check, resample to 360 Hz, z-score leads
    ds = ECGChunks([rec], chunk_length=1024, sigma=2.0)    # (x [L, C], soft target y [L])
    probs = predict_probs(model, rec.signal, window=1024)  # [T] in [0, 1]
    triggers = find_triggers(probs, fs=rec.fs)             # sample indices
    pan_tompkins(lead, fs) / xqrs(lead, fs)                 # classical baselines
"""

from dlcc.signals.chunks import ECGChunks, soft_targets
from dlcc.signals.detect import find_triggers, predict_probs
from dlcc.signals.pan_tompkins import pan_tompkins
from dlcc.signals.preprocess import TARGET_FS, Prepared, prepare_record, resample_signal, zscore
from dlcc.signals.xqrs import xqrs

__all__ = ["ECGChunks", "Prepared", "TARGET_FS", "find_triggers", "pan_tompkins", "predict_probs",
           "prepare_record", "resample_signal", "soft_targets", "xqrs", "zscore"]
