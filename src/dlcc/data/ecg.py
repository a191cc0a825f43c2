"""Real ECG: MIT-BIH Arrhythmia records (read with `wfdb` from local files) and scipy's excerpt."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlcc.data.cache import cached_arrays
from dlcc.data.registry import get_dataset
from dlcc.data.resolve import ensure
from dlcc.errors import DataError

# PhysioNet beat annotation codes; everything else (+ rhythm, ~ noise, | artifact, x ...) is not a beat.
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")


@dataclass
class Record:
    """One ECG recording.

    signal:  float32 [T, n_leads] in millivolts
    fs:      sampling rate in Hz (360 for MIT-BIH)
    leads:   lead names, one per column (e.g. ("MLII", "V5"))
    r_peaks: int64 [n_beats] sample index of every beat annotation (beats sit on the R peak)
    symbols: beat type per R peak ("N" normal, "V" PVC, "A" APB, "L" LBBB, ...)
    """

    name: str
    signal: np.ndarray
    fs: float
    leads: tuple[str, ...]
    r_peaks: np.ndarray
    symbols: tuple[str, ...]


def mitbih_records() -> list[str]:
    """Names of the registered MIT-BIH records ("100", "101", ...)."""
    variant = get_dataset("mitbih").variants[0]
    return sorted({f.relpath.split(".")[0] for f in variant.files})


def load_mitbih(records=None, data_dir=None, leads=None) -> list[Record]:
    """MIT-BIH Arrhythmia records with their beat annotations.

    Args:
        records: names like "100" or 100 (default: all 16 registered records).
        leads: lead names to keep, in this order, e.g. ["MLII"] (default: all, file order).
            A record without a requested lead raises DataError (record 114 has V5 first).
    Returns a list of Record (signal float32 [650000, n_leads] at 360 Hz).
    """
    known = mitbih_records()
    wanted = known if records is None else [str(r) for r in records]
    for name in wanted:
        if name not in known:
            raise DataError(f"unknown MIT-BIH record {name!r}; registered records: {', '.join(known)}",
                            fix="pick records from that list (`dlcc data list` shows the dataset)")
    return [_select_leads(_load_record(name, data_dir), leads) for name in wanted]


def _load_record(name: str, data_dir) -> Record:
    files = ensure("mitbih", data_dir, only=[f"{name}.hea", f"{name}.dat", f"{name}.atr"])
    folders = {p.parent for p in files.paths.values()}
    if len(folders) != 1:
        places = ", ".join(str(p) for p in files.paths.values())
        raise DataError(f"the files of MIT-BIH record {name} are in different folders: {places}",
                        fix="put .hea, .dat and .atr of a record in one folder")
    base = folders.pop() / name
    a = cached_arrays(f"mitbih-{name}", files.digests, lambda: _read_wfdb(base))
    return Record(name, a["signal"], float(a["fs"]), tuple(str(s) for s in a["leads"]),
                  a["r_peaks"], tuple(str(s) for s in a["symbols"]))


def _read_wfdb(base: Path) -> dict[str, np.ndarray]:
    try:
        import wfdb
    except ImportError:
        raise DataError("reading MIT-BIH needs the wfdb package, which is not installed",
                        fix="pip install 'dlcc[signals]'") from None
    try:
        # local paths only; never pn_dir=, which would download from PhysioNet
        record = wfdb.rdrecord(str(base))
        ann = wfdb.rdann(str(base), "atr")
    except (ValueError, OSError, IndexError, EOFError) as exc:
        raise DataError(f"cannot read WFDB record {base} (.hea/.dat/.atr): {exc}",
                        fix="replace the record's files with good copies (`dlcc data verify mitbih`)") from exc
    signal = np.asarray(record.p_signal, dtype=np.float32)
    if signal.ndim != 2 or not np.isfinite(signal).all():
        raise DataError(f"WFDB record {base}: signal {signal.shape} is not [T, leads] or has NaN",
                        fix="replace the record's files with good copies")
    is_beat = np.array([s in BEAT_SYMBOLS for s in ann.symbol], dtype=bool)
    return {"signal": signal, "fs": np.float64(record.fs), "leads": np.array(record.sig_name, dtype=str),
            "r_peaks": np.asarray(ann.sample, dtype=np.int64)[is_beat],
            "symbols": np.array(ann.symbol, dtype=str)[is_beat]}


def _select_leads(record: Record, leads) -> Record:
    if leads is None:
        return record
    index = []
    for lead in leads:
        if lead not in record.leads:
            raise DataError(f"MIT-BIH record {record.name} has no lead {lead!r} "
                            f"(it has {', '.join(record.leads)})",
                            fix="choose leads the record has, or leave out leads= to get all")
        index.append(record.leads.index(lead))
    return Record(record.name, record.signal[:, index], record.fs, tuple(leads),
                  record.r_peaks, record.symbols)


def load_ecg_scipy(data_dir=None) -> tuple[np.ndarray, int]:
    """scipy's ECG example: MIT-BIH record 208, lead MLII, samples 422820-530819.

    Returns (signal float32 [108000] in mV, fs = 360). No annotations; beat labels are
    record 208's (load_mitbih(["208"])) minus 422820.
    """
    files = ensure("ecg-scipy", data_dir)
    path = files.paths["ecg.dat"]
    try:
        with np.load(path, allow_pickle=False) as archive:
            raw = archive["ecg"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {path} (an .npz holding 'ecg'): {exc}",
                        fix="replace it with a good copy (`dlcc data verify ecg-scipy`)") from exc
    # the ADC has gain 200 units/mV and baseline 1024, as scipy.datasets.electrocardiogram applies
    return ((raw.astype(np.float32) - 1024.0) / 200.0).astype(np.float32), 360
