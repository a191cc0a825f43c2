"""A detector over a recording of any length, in bounded memory.

`PreparedStream` gives the signal exactly as `prepare_record` prepares a training record - gaps
(NaN) filled by linear interpolation, resampled to the model's rate, z-scored per lead with the
mean and standard deviation of the *whole* recording - but piece by piece. A recording of up to
`WHOLE_VALUES` values is prepared at once by `prepare_record` itself (so `dlcc predict` on a
30-minute MIT-BIH record sees the very numbers the recipe's evaluation saw). A longer one is
read three times, a block at a time: once for gaps and flat leads, once for the statistics of
the resampled signal, and once to detect. A resampled block is computed from the raw samples
around it with a margin longer than the anti-aliasing filter, so it equals the corresponding
part of resampling everything at once.

`stream_probs` runs the model over the same windows, in the same batches and with the same
blending as `predict_probs`, and hands on each stretch of probabilities as soon as no later
window can change it. `stream_candidates` collects the candidate peaks of those stretches, so
only the candidates (a few per beat) are kept, never the whole trace.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import numpy as np
import torch
from scipy.signal import resample_poly

from dlcc.errors import DataError
from dlcc.signals.detect import _edge_weights
from dlcc.signals.postprocess import candidate_peaks
from dlcc.signals.preprocess import TARGET_FS, prepare_record, resample_ratio

WHOLE_VALUES = 1 << 22          # samples x leads prepared at once (32 MB as float64)
BLOCK = 1 << 18                 # raw samples per block when streaming
ProbsFn = Callable[[np.ndarray], np.ndarray]      # [B, window, C] float32 -> [B, window] probabilities


class PreparedStream:
    """A `dlcc.data.recordings.Recording` view (the model's leads, in order) as the model sees it.

    Args:
        rec: has `name`, `path`, `leads`, `fs`, `length` and `read(start, stop)` -> `[n, C]`.
        fs: the model's sampling rate.
        n_inputs: channels the model takes; a one-lead recording is copied into each.

    Attributes: `length` (samples at `fs`), `fs`, `leads`. `segment(start, stop)` ->
    `[stop - start, n_inputs]` float32.
    """

    def __init__(self, rec, fs: float = TARGET_FS, n_inputs: int | None = None, whole_values: int = WHOLE_VALUES,
                 block: int = BLOCK):
        self.rec, self.fs, self.leads = rec, float(fs), list(rec.leads)
        self.n_inputs = n_inputs or len(self.leads)
        self.fs_in = float(rec.fs)
        self.up, self.down = (1, 1) if self.fs_in == self.fs else resample_ratio(self.fs_in, self.fs)
        self.length = math.ceil(rec.length * self.up / self.down)
        self.block = int(block)
        taps = 10 * max(self.up, self.down)             # resample_poly's filter half-length (upsampled)
        self.margin = math.ceil(taps / self.up) + 2
        if rec.length * len(self.leads) <= whole_values:
            self._whole = self._prepare_whole()
        else:
            self._whole = None
            self._scan()
            self._statistics()

    # ---------------------------------------------------------------- whole recordings
    def _prepare_whole(self) -> np.ndarray:
        raw = self.rec.read(0, self.rec.length)
        self._check(np.isfinite(raw).any(0), np.nanmax(np.where(np.isfinite(raw), raw, -np.inf), 0),
                    np.nanmin(np.where(np.isfinite(raw), raw, np.inf), 0))
        record = SimpleNamespace(name=self.rec.name, signal=raw, fs=self.fs_in, leads=self.leads, r_peaks=None)
        return prepare_record(record, len(self.leads), fs=self.fs, first_lead=None, require_peaks=False).signal

    def _check(self, any_finite: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> None:
        where = f"{self.rec.path}"
        for c, lead in enumerate(self.leads):
            if not any_finite[c]:
                raise DataError(f"{where}: lead {lead!r} has no valid samples (all NaN)",
                                fix="choose another lead with --lead NAME")
            if top[c] == bottom[c]:
                raise DataError(f"{where}: lead {lead!r} is constant ({top[c]:g}): disconnected or missing",
                                fix="choose another lead with --lead NAME")

    # ---------------------------------------------------------------- streaming: pass 1
    def _scan(self) -> None:
        """Find the NaN runs of every lead, with the valid values on both sides, and check that no
        lead is empty or flat."""
        C, T = len(self.leads), self.rec.length
        self.gaps: list[list[tuple[int, int, float, float]]] = [[] for _ in range(C)]
        open_run: list[tuple[int, float] | None] = [None] * C    # (start, value before it) of a run still open
        last = [math.nan] * C
        top, bottom = np.full(C, -np.inf), np.full(C, np.inf)
        for a in range(0, T, self.block):
            x = self.rec.read(a, min(T, a + self.block))
            n, ok = len(x), np.isfinite(x)
            top = np.maximum(top, np.where(ok, x, -np.inf).max(0))
            bottom = np.minimum(bottom, np.where(ok, x, np.inf).min(0))
            for c in range(C):
                edges = np.flatnonzero(np.diff(np.concatenate([[1], ok[:, c].astype(np.int8), [1]])))
                if open_run[c] is not None and ok[0, c]:           # the open run ended at this block's start
                    self.gaps[c].append((open_run[c][0], a, open_run[c][1], float(x[0, c])))
                    open_run[c] = None
                for s, e in zip(edges[::2].tolist(), edges[1::2].tolist()):   # NaN runs [s, e) of the block
                    if s == 0 and open_run[c] is not None:
                        start, left = open_run[c]
                    else:
                        start, left = a + s, (float(x[s - 1, c]) if s else last[c])
                    if e == n and a + n < T:
                        open_run[c] = (start, left)
                    else:
                        self.gaps[c].append((start, a + e, left, float(x[e, c]) if e < n else math.nan))
                        open_run[c] = None
                if ok[:, c].any():
                    last[c] = float(x[np.flatnonzero(ok[:, c])[-1], c])
        self._check(np.isfinite(top), top, bottom)
        for c in range(C):              # leading / trailing runs take the nearest valid value
            self.gaps[c] = [(s, e, r if math.isnan(lv) else lv, lv if math.isnan(r) else r)
                            for s, e, lv, r in self.gaps[c]]
        self._gap_starts = [[g[0] for g in gaps] for gaps in self.gaps]

    def _read_filled(self, start: int, stop: int) -> np.ndarray:
        x = self.rec.read(start, stop)
        for c, gaps in enumerate(self.gaps):
            i = max(0, bisect.bisect_right(self._gap_starts[c], start) - 1)
            for s, e, left, right in gaps[i:]:
                if s >= stop:
                    break
                lo, hi = max(s, start), min(e, stop)
                if lo < hi:
                    x[lo - start:hi - start, c] = np.interp(np.arange(lo, hi), [s - 1, e], [left, right])
        return x

    # ---------------------------------------------------------------- streaming: pass 2
    def _resampled(self, start: int, stop: int) -> np.ndarray:
        """Gap-filled, resampled, not yet z-scored samples [start, stop) at `fs`: `[n, C]` float64."""
        if (self.up, self.down) == (1, 1):
            return self._read_filled(start, stop)
        a = max(0, (start * self.down // self.up - self.margin) // self.down * self.down)
        b = min(self.rec.length, -(-stop * self.down // self.up) + self.margin)
        y = resample_poly(self._read_filled(a, b), self.up, self.down, axis=0)
        g0 = a * self.up // self.down
        return y[start - g0:stop - g0]

    def _statistics(self) -> None:
        """Mean and standard deviation per lead of the whole resampled signal (Chan et al.'s
        pairwise update of block means and sums of squares)."""
        n, mean, m2 = 0, np.zeros(len(self.leads)), np.zeros(len(self.leads))
        step = max(1, self.block * self.up // self.down)
        for a in range(0, self.length, step):
            y = self._resampled(a, min(self.length, a + step))
            k, mu = len(y), y.mean(0)
            delta = mu - mean
            m2 += ((y - mu) ** 2).sum(0) + delta ** 2 * n * k / (n + k)
            mean += delta * k / (n + k)
            n += k
        self.mean, self.std = mean, np.sqrt(m2 / n)

    # ---------------------------------------------------------------- the prepared signal
    def segment(self, start: int, stop: int) -> np.ndarray:
        """Prepared samples [start, stop) (clipped to the recording): `[n, n_inputs]` float32."""
        start, stop = max(0, start), min(stop, self.length)
        if self._whole is not None:
            x = self._whole[start:stop]
        else:
            x = ((self._resampled(start, stop) - self.mean) / np.maximum(self.std, 1e-8)).astype(np.float32)
        if x.shape[1] < self.n_inputs:
            x = np.repeat(x[:, :1], self.n_inputs, axis=1)
        return x


def torch_probs(model: torch.nn.Module, device: torch.device | str = "cpu") -> ProbsFn:
    """A `ProbsFn` running `model` (logits `[B, window]`) exactly as `predict_probs` does."""
    model.eval()

    @torch.no_grad()
    def probs(x: np.ndarray) -> np.ndarray:
        return torch.sigmoid(model(torch.from_numpy(x).to(device)).float()).cpu().numpy()

    return probs


def stream_probs(probs_fn: ProbsFn, stream: PreparedStream, window: int, hop: int | None = None,
                 batch_size: int = 64) -> Iterator[tuple[int, np.ndarray]]:
    """(start, probabilities `[n]` float32) stretches covering [0, stream.length) in order; the
    same windows, batches and blending as `dlcc.signals.predict_probs` on the whole signal."""
    hop = hop or max(1, window // 2)
    T = stream.length
    padded = max(window, T)
    starts = list(range(0, padded - window + 1, hop))
    if starts[-1] + window < padded:
        starts.append(padded - window)
    w = _edge_weights(window)
    base, total, weight = 0, np.zeros(0), np.zeros(0)
    for i in range(0, len(starts), batch_size):
        batch = starts[i:i + batch_size]
        lo, hi = batch[0], batch[-1] + window
        x = np.zeros((hi - lo, stream.n_inputs), dtype=np.float32)
        seg = stream.segment(lo, min(hi, T))
        x[:len(seg)] = seg
        p = probs_fn(np.stack([x[s - lo:s - lo + window] for s in batch]))
        grow = hi - (base + len(total))
        if grow > 0:
            total, weight = np.concatenate([total, np.zeros(grow)]), np.concatenate([weight, np.zeros(grow)])
        for s, ps in zip(batch, p):
            total[s - base:s - base + window] += w * ps
            weight[s - base:s - base + window] += w
        done = starts[i + batch_size] if i + batch_size < len(starts) else padded
        n = min(done, T) - base
        if n > 0:
            yield base, (total[:n] / weight[:n]).astype(np.float32)
            total, weight, base = total[n:], weight[n:], base + n


def stream_candidates(stretches: Iterator[tuple[int, np.ndarray]], fs: float, height: float,
                      min_distance_s: float = 0.2, chunk: int = 1 << 20, margin_s: float = 5.0
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Candidate peaks (`candidate_peaks`) of a streamed trace: (indices, heights). The trace is
    cut into pieces of `chunk` samples, each searched with `margin_s` of context on both sides,
    so a trace shorter than `chunk` gives exactly `candidate_peaks` of the whole."""
    margin = int(margin_s * fs)
    buf, buf_start, done = np.zeros(0, np.float32), 0, 0     # done: candidates found below this index
    peaks, heights = [], []

    def search(stop: int, final: bool) -> None:
        nonlocal buf, buf_start, done
        lo = max(buf_start, done - margin)
        hi = buf_start + len(buf) if final else stop + margin
        idx, h = candidate_peaks(buf[lo - buf_start:hi - buf_start], fs, height, min_distance_s)
        idx = idx + lo
        keep = (idx >= done) & ((idx < stop) | final)
        peaks.append(idx[keep])
        heights.append(h[keep])
        done = stop
        cut = max(0, done - margin - buf_start)
        buf, buf_start = buf[cut:], buf_start + cut

    for start, p in stretches:
        buf = np.concatenate([buf, p]) if len(buf) else p
        while buf_start + len(buf) >= done + chunk + margin:
            search(done + chunk, final=False)
    search(buf_start + len(buf), final=True)
    return np.concatenate(peaks).astype(np.int64), np.concatenate(heights)
