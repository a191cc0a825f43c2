"""POST /predict for image models: the answer equals `dlcc predict` on the same file, and every
bad request is a 4xx JSON error that names the problem."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from serve_helpers import png_bytes

RNG = np.random.default_rng(0)
IMAGE = RNG.integers(0, 256, (40, 50, 3), dtype=np.uint8)


def test_health_model_and_schema(image_client):
    assert image_client.get("/health").json() == {"status": "ok", "model": "fast", "task": "classification"}
    info = image_client.get("/model").json()
    assert info["recipe"] == "cifar10-fast" and len(info["classes"]) == 10 and "test_accuracy" in info["metrics"]
    schema = image_client.get("/openapi.json").json()
    body = schema["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)


def test_prediction_equals_dlcc_predict(image_client, fast_run, tmp_path):
    from dlcc.predict import predict

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "cat.png").write_bytes(png_bytes(IMAGE))
    predict(fast_run, [tmp_path / "in" / "cat.png"], tmp_path / "out", log=lambda line: None)
    with open(tmp_path / "out" / "predictions.csv", encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    r = image_client.post("/predict", files={"file": ("cat.png", png_bytes(IMAGE), "image/png")})
    assert r.status_code == 200
    answer = r.json()["predictions"][0]
    assert answer["file"] == "cat.png" and answer["class"] == row["class"]
    probs = answer["probabilities"]
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-6)
    for name, value in probs.items():
        assert value == pytest.approx(float(row[f"p_{name}"]), abs=1e-6)


def test_several_images_in_one_request(image_client):
    files = [("file", (f"im{i}.png", png_bytes(np.roll(IMAGE, i, 0)), "image/png")) for i in range(3)]
    r = image_client.post("/predict", files=files)
    assert r.status_code == 200 and [p["file"] for p in r.json()["predictions"]] == ["im0.png", "im1.png", "im2.png"]


def test_client_file_names_are_only_labels(image_client):
    r = image_client.post("/predict", files={"file": ("../../etc/passwd.png", png_bytes(IMAGE), "image/png")})
    assert r.status_code == 200 and r.json()["predictions"][0]["file"] == "passwd.png"


BAD = [
    ("not an image", {"files": {"file": ("notes.txt", b"hello", "text/plain")}}, 400, "notes.txt: not a readable image"),
    ("truncated", {"files": {"file": ("cut.png", png_bytes(IMAGE)[:120], "image/png")}}, 400, "truncated"),
    ("empty file", {"files": {"file": ("e.png", b"", "image/png")}}, 400, "e.png: the file is empty"),
    ("recording", {"files": {"file": ("r.npy", b"\x93NUMPY", "application/octet-stream")}}, 400, "ECG recording"),
    ("other field", {"files": {"data": ("cat.png", png_bytes(IMAGE), "image/png")}}, 400, "unexpected file field"),
    ("no file", {"data": {"fs": "360"}, "files": {}}, 400, None),
    ("json to image model", {"json": {"vector": [1, 2]}}, 400, "takes image files, not JSON"),
    ("broken json", {"content": b"{bad", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
    ("text body", {"content": b"abc", "headers": {"content-type": "text/plain"}}, 415, "unsupported content type"),
]


@pytest.mark.parametrize("name,kwargs,status,words", BAD, ids=[b[0] for b in BAD])
def test_bad_requests_get_json_errors(image_client, name, kwargs, status, words):
    r = image_client.post("/predict", **kwargs)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "fix"} and body["fix"]
    assert words is None or words in body["error"]
    assert "Traceback" not in r.text and "/tmp/" not in body["error"]
    assert image_client.get("/health").status_code == 200          # still serving


def test_image_over_the_pixel_limit_is_refused_from_its_header(image_client):
    big = np.zeros((1100, 1000), np.uint8)                           # 1.1 MP > the fixture's 1 MP, ~1 kB as PNG
    r = image_client.post("/predict", files={"file": ("big.png", png_bytes(big), "image/png")})
    assert r.status_code == 400 and "1,000 x 1,100 pixels" in r.json()["error"]


def test_bodies_over_the_limit_get_413(image_client):
    r = image_client.post("/predict", content=b"x" * 400_000, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit of 0.3 MB" in r.json()["error"] and "--max-mb" in r.json()["fix"]

    def chunks():                                      # no Content-Length: counted while it streams
        for _ in range(50):
            yield b"x" * 10_000

    r = image_client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_unknown_routes_and_methods_are_json(image_client):
    r = image_client.get("/nope")
    assert r.status_code == 404 and r.json()["error"] == "Not Found"
    r = image_client.get("/predict")
    assert r.status_code == 405 and "method" in r.json()["fix"]


def test_a_bug_is_a_500_without_internals(fast_run, monkeypatch):
    from fastapi.testclient import TestClient

    from dlcc.serve import create_app, service

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "classify_pixels", broken)
    client = TestClient(create_app(fast_run), raise_server_exceptions=False)
    r = client.post("/predict", files={"file": ("cat.png", png_bytes(IMAGE), "image/png")})
    assert r.status_code == 500 and "RuntimeError" in r.json()["error"] and "secret" not in r.text


def test_text_models_are_not_served(tmp_path):
    import tiny_runs

    from dlcc.errors import ConfigError
    from dlcc.serve import open_served_model

    run = tiny_runs.run(tmp_path / "lm", "char-gpt", "data.corpus=embedded", "train.steps=2", "train.eval_every=2",
                        "data.eval_batches=1", "train.warmup_steps=1", "train.batch_size=4", "data.seq_len=16",
                        "model.n_layer=1", "model.n_embd=16", "model.n_head=2", "sample.length=5")
    with pytest.raises(ConfigError, match="serves classification, segmentation, ecg-rpeak models, not language-model"):
        open_served_model(run)
