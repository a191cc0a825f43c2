"""Public tests of the prediction service (a7_api.py). Run them with `dlcc course test A7`.

They train the tiny digit model once (a second or two, on MNIST through dlcc) and reach your
app in-process with FastAPI's TestClient. The grader also runs hidden tests that start your
app under uvicorn on 127.0.0.1 and send it real requests: many at once, and malformed ones.
"""

import numpy as np
import pytest

from dlcc.course.checks import assert_close

CLIENT, MODEL = "a7_client", "a7_model"
MEAN, STD = 0.1307, 0.3081
CLASSES = [str(d) for d in range(10)]


def refused(result: dict, *words: str) -> None:
    assert "error" in result, f"read_image returned pixels where it should raise InputError ({', '.join(words)})"
    assert result["status"] == 400, f"InputError status {result['status']}, expected 400"
    for word in words:
        assert word in result["error"], f"the message {result['error']!r} should contain {word!r}"


@pytest.mark.task("A7.1")
def test_read_image_gives_the_pixels_of_a_grayscale_png(student):
    client = student.module(CLIENT)
    digits, _ = student.module(MODEL).mnist_test(3)
    for i in range(3):
        got = client.read({"digit": i})
        assert "pixels" in got, f"digit {i} refused: {got.get('error')}"
        assert got["pixels"].dtype == np.uint8 and got["pixels"].shape == (28, 28)
        assert np.array_equal(got["pixels"], digits[i])
    jpeg = client.read({"digit": 0, "jpeg": True})
    assert "pixels" in jpeg and jpeg["pixels"].shape == (28, 28), "a grayscale JPEG is an image too"


@pytest.mark.task("A7.1")
def test_read_image_refuses_what_the_model_cannot_take(student):
    client = student.module(CLIENT)
    refused(client.read({"text": ""}), "empty")
    refused(client.read({"text": "name,age\nAda,36\n"}), "not an image")
    refused(client.read({"truncated": 0}), "truncated")
    rgb = np.random.default_rng(0).integers(0, 256, (28, 28, 3), dtype=np.uint8)
    refused(client.read({"pixels": rgb}), "channels", "3")
    refused(client.read({"blank": [3000, 2000]}), "pixels")
    assert "pixels" in client.read({"blank": [3000, 2000]}, max_pixels=6_000_000)


@pytest.mark.task("A7.2")
def test_preprocess_scales_and_normalises(student):
    api = student.module("a7_api")
    spec = {"size": 28, "channels": 1, "mean": MEAN, "std": STD}
    pixels = np.random.default_rng(1).integers(0, 256, (28, 28), dtype=np.uint8)
    batch = api.preprocess(pixels, spec)
    assert batch.shape == (1, 1, 28, 28) and batch.dtype == np.float32
    assert_close(batch[0, 0], (pixels / 255.0 - MEAN) / STD, rtol=1e-5, atol=1e-6, name="preprocess(28x28)")
    flat = api.preprocess(np.full((56, 40), 200, dtype=np.uint8), spec)   # resized, still one gray level
    assert flat.shape == (1, 1, 28, 28) and flat.dtype == np.float32
    assert_close(flat, np.full((1, 1, 28, 28), (200 / 255 - MEAN) / STD), rtol=1e-5, atol=1e-5,
                 name="preprocess(56x40 of 200)")


@pytest.mark.task("A7.2")
def test_probabilities_of_real_digits(student):
    client = student.module(CLIENT)
    _, labels = student.module(MODEL).mnist_test(20)
    result = client.predict_local([{"digit": i} for i in range(20)])
    probs = np.asarray(result["probabilities"])
    assert probs.shape == (20, 10), "predict_probabilities returns one probability per class"
    assert (probs >= 0).all() and np.allclose(probs.sum(axis=1), 1.0, atol=1e-6), "probabilities sum to 1"
    accuracy = float((probs.argmax(axis=1) == labels).mean())
    assert accuracy >= 0.8, f"only {accuracy:.0%} of 20 MNIST test digits right (the model gets about 90%)"
    assert result["probe"]["grad_enabled"] == 0, "the forward pass ran with autograd on: use torch.no_grad()"


@pytest.mark.task("A7.3")
def test_health_and_predictions_through_the_app(student):
    client = student.module(CLIENT)
    app = client.local_app()
    health = client.send(app, "GET", "/health")
    assert health["status"] == 200 and health["json"] == {"status": "ok"}, health["text"]
    expected = np.asarray(client.predict_local([{"digit": i} for i in range(5)])["probabilities"])
    _, labels = student.module(MODEL).mnist_test(5)
    right = 0
    for i in range(5):
        r = client.send(app, "POST", "/predict", {"digit": i})
        assert r["status"] == 200, f"POST /predict of digit {i}: {r['status']} {r['text']}"
        body = r["json"]
        assert sorted(body) == ["class", "probabilities", "probability"], sorted(body)
        assert list(body["probabilities"]) == CLASSES
        probs = np.array([body["probabilities"][c] for c in CLASSES])
        assert_close(probs, expected[i], rtol=1e-6, atol=1e-9, name=f"probabilities of digit {i}")
        assert body["class"] == CLASSES[int(probs.argmax())], "class: the most probable class's name"
        assert_close(body["probability"], probs.max(), rtol=1e-9, name="probability")
        right += body["class"] == str(labels[i])
    assert right >= 4, f"only {right} of the first 5 MNIST test digits classified right"


@pytest.mark.task("A7.3")
def test_bad_requests_get_a_json_error(student):
    client = student.module(CLIENT)
    app = client.local_app(max_bytes=20_000)
    cases = [({"upload_spec": {"text": "hello"}}, 400, "not an image"),
             ({"upload_spec": {"truncated": 1}}, 400, "truncated"),
             ({"upload_spec": {"digit": 0}, "field": "image"}, 400, "file"),
             ({"content": '{"image": [0, 1]}', "headers": {"content-type": "application/json"}}, 400, "file"),
             ({"upload_spec": {"random_bytes": 30_000}}, 413, "")]
    for kwargs, status, word in cases:
        r = client.send(app, "POST", "/predict", **kwargs)
        assert r["status"] == status, f"{kwargs}: status {r['status']}, expected {status}: {r['text']}"
        assert isinstance(r["json"], dict) and isinstance(r["json"].get("error"), str) and r["json"]["error"], \
            f"{kwargs}: the answer must be JSON {{\"error\": \"...\"}}, got {r['text']!r}"
        assert word in r["json"]["error"], f"{kwargs}: the error {r['json']['error']!r} should mention {word!r}"
    assert client.send(app, "GET", "/health")["status"] == 200


@pytest.mark.task("A7.4")
def test_the_page_predicts_and_shows_errors(student):
    client = student.module(CLIENT)
    want = np.asarray(client.predict_local([{"digit": 1}])["probabilities"][0])
    empty, digit, text = client.page([{"digit": 1}, {"text": "hello"}])
    assert empty["exceptions"] == [] and empty["metrics"] == [], "before an upload: no prediction, no exception"
    assert digit["exceptions"] == [], digit["exceptions"]
    assert digit["metrics"] == [["prediction", CLASSES[int(want.argmax())]]], \
        f"st.metric('prediction', the most probable class): {digit['metrics']}"
    assert len(digit["charts"]) == 1 and digit["errors"] == [], "one bar chart of the probabilities, no error"
    assert text["exceptions"] == [] and text["metrics"] == [], "a text file gives no prediction"
    assert len(text["errors"]) == 1 and "not an image" in text["errors"][0], text["errors"]
