"""POST /predict for the shipped R-peak detector (JSON arrays, .npy and WFDB uploads, checked
against MIT-BIH's reference beats) and for a U-Net (mask as PNG)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from serve_helpers import png_bytes

pytestmark = pytest.mark.data
BEATS = set("NLRBAaJSVrFejnE/fQ?")     # MIT-BIH beat symbols


def _record(mitbih, seconds: int = 20):
    import wfdb

    rec = wfdb.rdrecord(str(mitbih / "100"), sampto=360 * seconds)
    ann = wfdb.rdann(str(mitbih / "100"), "atr", sampto=360 * seconds)
    truth = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in BEATS])
    return rec.p_signal, truth


def _matches(found, truth, tolerance: int = 54) -> int:
    return sum(bool(np.any(np.abs(truth - f) <= tolerance)) for f in found)


def test_json_signal_finds_the_reference_beats(ecg_client, mitbih):
    signal, truth = _record(mitbih)
    r = ecg_client.post("/predict", json={"signal": signal.tolist(), "fs": 360, "leads": ["MLII", "V5"]})
    assert r.status_code == 200, r.text
    answer = r.json()["predictions"][0]
    found = np.array(answer["peaks_sample"])
    assert answer["leads"] == ["MLII", "V5"] and abs(len(found) - len(truth)) <= 1
    assert _matches(found, truth) >= len(truth) - 1
    assert 60 < answer["mean_hr_bpm"] < 90                      # record 100: about 75 bpm


def test_npy_upload_needs_fs_and_matches_the_json_answer(ecg_client, mitbih):
    signal, _ = _record(mitbih)
    buf = io.BytesIO()
    np.save(buf, signal[:, 0].astype(np.float32))
    r = ecg_client.post("/predict", files={"file": ("r100.npy", buf.getvalue())})
    assert r.status_code == 400 and "sampling rate" in r.json()["error"] and "fs=360" in r.json()["fix"]
    r = ecg_client.post("/predict", files={"file": ("r100.npy", buf.getvalue())}, data={"fs": "360"})
    via_file = r.json()["predictions"][0]["peaks_sample"]
    via_json = ecg_client.post("/predict", json={"signal": signal[:, 0].tolist(), "fs": 360}).json()
    assert via_file == via_json["predictions"][0]["peaks_sample"]


def test_wfdb_pair_upload(ecg_client, mitbih):
    import wfdb

    hea = (mitbih / "100.hea").read_bytes()
    dat = (mitbih / "100.dat").read_bytes()
    r = ecg_client.post("/predict", files=[("file", ("100.hea", hea)), ("file", ("100.dat", dat))],
                        data={"lead": "MLII"})
    assert r.status_code == 200, r.text
    answer = r.json()["predictions"][0]
    assert answer["leads"] == ["MLII"] and answer["duration_s"] == pytest.approx(1805.6, abs=0.1)
    ann = wfdb.rdann(str(mitbih / "100"), "atr")
    n_beats = sum(sym in BEATS for sym in ann.symbol)
    assert abs(answer["beats"] - n_beats) <= 10                 # 2,273 reference beats


BAD = [
    ("ragged rows", {"json": {"signal": [[1, 2], [3]], "fs": 360}}, "not an array of numbers"),
    ("no fs", {"json": {"signal": [0.0] * 1000}}, "fs=None is not a number"),
    ("fs text", {"json": {"signal": [0.0] * 1000, "fs": "abc"}}, "fs='abc' is not a number"),
    ("fs out of range", {"json": {"signal": [0.0] * 1000, "fs": 0.5}}, "out of range"),
    ("too short", {"json": {"signal": [0.0] * 100, "fs": 360}}, "at least 2 s"),
    ("all missing", {"json": {"signal": [None] * 1000, "fs": 360}}, "missing (NaN)"),
    ("3-d", {"json": {"signal": [[[1.0]]], "fs": 360}}, "shape [1, 1, 1]"),
    ("unknown field", {"json": {"sig": [1.0], "fs": 360}}, "unknown field(s) sig"),
    ("not an object", {"json": [1, 2]}, "must be an object"),
    ("lead count", {"json": {"signal": [[0.0, 1.0]] * 1000, "fs": 360, "leads": ["MLII"]}}, "1 lead names"),
    ("image", {"files": {"file": ("a.png", png_bytes(np.zeros((8, 8), np.uint8)))}}, "a.png is an image"),
    ("dat alone", {"files": {"file": ("100.dat", b"\x00" * 100)}}, "needs its header 100.hea"),
    ("bad npy", {"files": {"file": ("x.npy", b"\x93NUMPYbroken")}, "data": {"fs": "360"}}, "not a readable .npy"),
]


@pytest.mark.parametrize("name,kwargs,words", BAD, ids=[b[0] for b in BAD])
def test_bad_ecg_requests(ecg_client, name, kwargs, words):
    r = ecg_client.post("/predict", **kwargs)
    assert r.status_code == 400, r.text
    assert words in r.json()["error"] and r.json()["fix"]
    assert ecg_client.get("/health").json()["status"] == "ok"


@pytest.mark.slow
def test_unet_mask_comes_back_as_png(tmp_path_factory, shared_data):
    import tiny_runs
    from fastapi.testclient import TestClient
    from PIL import Image

    from dlcc.serve import create_app

    run = tiny_runs.isbi_run(tmp_path_factory.mktemp("serve-unet") / "unet")
    client = TestClient(create_app(run))
    data = sorted((shared_data / "isbi2012_em" / "train" / "image").glob("*.png"))[0].read_bytes()
    r = client.post("/predict", files={"file": ("slice.png", data, "image/png")})
    assert r.status_code == 200, r.text
    answer = r.json()["predictions"][0]
    mask = np.asarray(Image.open(io.BytesIO(base64.b64decode(answer["mask_png"]))))
    assert mask.shape == (answer["height"], answer["width"]) == (512, 512)
    assert set(np.unique(mask)) <= {0, 255}
    assert answer["foreground"] == pytest.approx((mask > 0).mean(), abs=1e-6)
