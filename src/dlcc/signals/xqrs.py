"""wfdb's XQRS detector behind the same interface as `pan_tompkins`: one lead in, R peaks out.

XQRS (in `wfdb.processing`) learns its thresholds from the first seconds of the record and
then detects QRS complexes; it is the reference "classical" detector in the benchmarks. wfdb
is an optional dependency (`pip install 'dlcc[signals]'`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings

import numpy as np

from dlcc.errors import ConfigError, InputError


def xqrs(ecg: np.ndarray, fs: float = 360.0) -> np.ndarray:
    """Detect QRS complexes in one lead with `wfdb.processing.XQRS`.

    Args:
        ecg: `[T]` float in millivolts (XQRS's defaults assume physical units), >= 2 s long.
        fs: sampling rate in Hz.

    Returns: sample indices `[n]` int64, ascending.
    """
    try:
        from wfdb import processing
    except ImportError:
        raise ConfigError("the XQRS detector needs the 'wfdb' package, which is not installed",
                          fix="pip install 'dlcc[signals]'") from None
    ecg = np.asarray(ecg, dtype=np.float64).ravel()
    if len(ecg) < 2 * fs or not np.isfinite(ecg).all():
        raise InputError(f"XQRS needs at least 2 s of finite samples ({int(2 * fs)} at {fs:g} Hz); got {len(ecg)}",
                         fix="pass a longer, gap-free lead")
    detector = processing.XQRS(sig=ecg, fs=fs)
    # XQRS reports its learning phase through print/logging/warnings; keep benchmarks quiet
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            detector.detect(verbose=False)
        finally:
            logging.disable(logging.NOTSET)
    return np.unique(np.asarray(detector.qrs_inds, dtype=np.int64))
