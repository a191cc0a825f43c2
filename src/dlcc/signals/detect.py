"""From a trained tagger to trigger times: sliding-window probabilities, then peak picking.

`predict_probs` runs a model over a record of any length in overlapping windows and blends the
overlaps (window edges, where a model sees little context, get less weight). `find_triggers`
keeps the samples whose probability is above a threshold, is a local maximum, and is at least
`min_distance_s` away from a higher one — one trigger per heartbeat.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.signal import find_peaks

from dlcc.errors import ConfigError


def _edge_weights(window: int) -> np.ndarray:
    """Triangular weights `[window]`, small but non-zero at the ends."""
    ramp = np.minimum(np.arange(1, window + 1), np.arange(window, 0, -1)).astype(np.float64)
    return ramp / ramp.max()


@torch.no_grad()
def predict_probs(model: torch.nn.Module, signal: np.ndarray, window: int = 1024, hop: int | None = None,
                  batch_size: int = 64, device: torch.device | str = "cpu") -> np.ndarray:
    """Per-sample trigger probabilities for a whole record.

    Args:
        model: maps `[B, window, C]` float32 to logits `[B, window]`.
        signal: `[T, C]` float32, prepared like the training data (any T >= 1; a record shorter
            than one window is zero-padded and the padding cropped off again).
        window: samples per model call (<= the model's max_len).
        hop: step between windows (default window // 2, so every sample is seen twice).

    Returns: `[T]` float32 probabilities in [0, 1].
    """
    hop = hop or max(1, window // 2)
    if hop > window:
        raise ConfigError(f"hop {hop} is larger than the window {window}; samples would be skipped")
    T, C = signal.shape
    padded_len = max(window, T)
    starts = list(range(0, padded_len - window + 1, hop))
    if starts[-1] + window < padded_len:
        starts.append(padded_len - window)
    x = np.zeros((padded_len, C), dtype=np.float32)
    x[:T] = signal
    total = np.zeros(padded_len)
    weight = np.zeros(padded_len)
    w = _edge_weights(window)
    was_training = model.training
    model.eval()
    try:
        for i in range(0, len(starts), batch_size):
            batch = starts[i:i + batch_size]
            xb = torch.from_numpy(np.stack([x[s:s + window] for s in batch])).to(device)
            probs = torch.sigmoid(model(xb).float()).cpu().numpy()
            for s, p in zip(batch, probs):
                total[s:s + window] += w * p
                weight[s:s + window] += w
    finally:
        model.train(was_training)
    return (total / weight)[:T].astype(np.float32)


def find_triggers(probs: np.ndarray, fs: float = 360.0, threshold: float = 0.5,
                  min_distance_s: float = 0.2) -> np.ndarray:
    """Peak picking on a probability trace `[T]` -> sample indices `[n]` int64, ascending.

    A trigger is a local maximum with probability >= `threshold`; of two closer than
    `min_distance_s` (200 ms: no heart beats faster than 300/min) the higher one wins.
    """
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"trigger threshold must be between 0 and 1; got {threshold}",
                          fix="e.g. --set detect.threshold=0.5")
    distance = max(1, int(round(min_distance_s * fs)))
    peaks, _ = find_peaks(np.asarray(probs, dtype=np.float64), height=threshold, distance=distance)
    return peaks.astype(np.int64)
