"""Hidden tests of A7: read_image and preprocess against the solution on awkward inputs, the
probabilities against the solution's on the same weights, and the student's app for real:
uvicorn in a subprocess on 127.0.0.1, concurrent requests, malformed ones, a slow model."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close

CLIENT, MODEL, API = "a7_client", "a7_model", "a7_api"
CLASSES = [str(d) for d in range(10)]
SPEC = {"size": 28, "channels": 1, "mean": 0.1307, "std": 0.3081}


def expected_probabilities(student, solution, digits: int) -> np.ndarray:
    """The solution's probabilities for the first `digits` MNIST test images, on the weights of
    the model the student's side trained."""
    import torch

    folder = student.module(MODEL).tiny_model()
    net = solution.module(MODEL).from_weights(student.module(MODEL).weights(folder))
    pixels, _ = student.module(MODEL).mnist_test(digits)
    api = solution.module(API)
    with torch.no_grad():
        return np.stack([api.predict_probabilities(net, api.preprocess(p, SPEC)) for p in pixels])


def assert_json_error(r: dict, status: int, what: str) -> None:
    assert r["status"] == status, f"{what}: status {r['status']}, expected {status}: {r['text'][:300]}"
    assert isinstance(r["json"], dict) and isinstance(r["json"].get("error"), str) and r["json"]["error"].strip(), \
        f"{what}: the answer must be JSON {{\"error\": \"...\"}}, got {r['text'][:300]!r}"


@pytest.mark.task("A7.1")
def test_pixel_limit_is_read_from_the_header(student):
    client = student.module(CLIENT)
    for claims in ([5000, 5000], [20000, 20000]):     # 25 M pixels; 400 M (Pillow's own bomb limit)
        got = client.read({"claims": claims})
        assert "error" in got and got["status"] == 400, f"a PNG whose header says {claims[0]}x{claims[1]}: {got}"
        assert "pixels" in got["error"], f"the header says {claims[0]}x{claims[1]}, over the limit: {got['error']!r}"
    message = client.read({"claims": [5000, 5000]})["error"].replace(",", "").replace(" ", "").replace("_", "")
    assert "25000000" in message, f"the message should say how many pixels the image has (25000000): {message!r}"
    assert "pixels" in client.read({"blank": [2000, 2000]}, max_pixels=4_000_000), "exactly max_pixels is allowed"
    got = client.read({"blank": [2001, 2000]}, max_pixels=4_000_000)
    assert "error" in got and "pixels" in got["error"], "one row over max_pixels must be refused"


@pytest.mark.task("A7.1")
def test_channels_are_counted_and_gray_images_of_any_size_pass(student, solution):
    client = student.module(CLIENT)
    rng = np.random.default_rng(7)
    for channels in (3, 4, 2):
        shape = (12, 9, channels)
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        got = client.read({"pixels": pixels})
        assert "error" in got and got["status"] == 400, f"a {channels}-channel image was accepted"
        assert "channels" in got["error"] and str(channels) in got["error"], got["error"]
    for shape in ((1, 1), (5, 300), (64, 48)):
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        got = client.read({"pixels": pixels})
        assert "pixels" in got, f"a {shape} grayscale PNG refused: {got.get('error')}"
        assert got["pixels"].dtype == np.uint8 and np.array_equal(got["pixels"], pixels)
    refused = client.read({"random_bytes": 5000})
    assert "error" in refused and "not an image" in refused["error"]


@pytest.mark.task("A7.2")
def test_preprocess_matches_the_solution_on_odd_sizes(student, solution):
    rng = np.random.default_rng(3)
    spec = {"size": 28, "channels": 1, "mean": 0.5, "std": 0.25}
    for shape in ((28, 28), (13, 40), (100, 60), (1, 1)):
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        got = student.module(API).preprocess(pixels, spec)
        want = solution.module(API).preprocess(pixels, spec)
        assert got.shape == (1, 1, 28, 28) and got.dtype == np.float32, (got.shape, got.dtype)
        assert_close(got, want, rtol=1e-5, atol=1e-5, name=f"preprocess of {shape[0]}x{shape[1]}, mean 0.5, std 0.25")
    small = {"size": 8, "channels": 1, "mean": 0.0, "std": 1.0}
    pixels = rng.integers(0, 256, (20, 20), dtype=np.uint8)
    assert_close(student.module(API).preprocess(pixels, small), solution.module(API).preprocess(pixels, small),
                 rtol=1e-5, atol=1e-6, name="preprocess to 8x8")


@pytest.mark.task("A7.2")
def test_probabilities_match_the_solution_on_the_same_weights(student, solution):
    want = expected_probabilities(student, solution, 12)
    got = np.asarray(student.module(CLIENT).predict_local([{"digit": i} for i in range(12)])["probabilities"])
    assert_close(got, want, rtol=1e-5, atol=1e-7, name="probabilities of 12 MNIST test digits")
    model = student.module(MODEL).load_module.keep(student.module(MODEL).tiny_model())
    probs = student.module(API).predict_probabilities(model, np.full((1, 1, 28, 28), 40.0, dtype=np.float32))
    assert np.isfinite(probs).all() and abs(float(np.sum(probs)) - 1) < 1e-6, "softmax of large logits must stay finite"


@pytest.mark.task("A7.3", weight=2)
def test_live_server_answers_concurrent_predictions(student, solution):
    client = student.module(CLIENT)
    url = client.live_server()
    assert client.send(url, "GET", "/health")["json"] == {"status": "ok"}
    want = expected_probabilities(student, solution, 32)
    specs = [{"digit": i} for i in range(32)]
    done = client.send_many(url, specs, concurrency=8, health_every_s=0.05)
    for i, r in enumerate(done["predict"]):
        assert r["status"] == 200, f"request {i} of 32 (8 at a time): {r['status']} {r['text'][:300]}"
        probs = np.array([r["json"]["probabilities"][c] for c in CLASSES])
        assert_close(probs, want[i], rtol=1e-5, atol=1e-7, name=f"probabilities of digit {i} (8 requests at a time)")
        assert r["json"]["class"] == CLASSES[int(want[i].argmax())]
    assert all(h["status"] == 200 for h in done["health"]), "GET /health failed during the predictions"


@pytest.mark.task("A7.3", weight=2)
def test_live_server_refuses_bad_requests_and_keeps_serving(student):
    client = student.module(CLIENT)
    url = client.live_server()
    cases = [("a text file", {"upload_spec": {"text": "not a picture"}}, 400),
             ("random bytes named .png", {"upload_spec": {"random_bytes": 2000}}, 400),
             ("half a PNG", {"upload_spec": {"truncated": 3}}, 400),
             ("an empty file", {"upload_spec": {"text": ""}}, 400),
             ("an RGB image", {"upload_spec": {"pixels": np.zeros((28, 28, 3), dtype=np.uint8)}}, 400),
             ("a PNG claiming 20000x20000", {"upload_spec": {"claims": [20000, 20000]}}, 400),
             ("the file in the wrong field", {"upload_spec": {"digit": 0}, "field": "upload"}, 400),
             ("a JSON body", {"content": "[1, 2, 3]", "headers": {"content-type": "application/json"}}, 400),
             ("a body over MAX_BYTES", {"upload_spec": {"random_bytes": 1_200_000}}, 413)]
    for what, kwargs, status in cases:
        assert_json_error(client.send(url, "POST", "/predict", **kwargs), status, what)
        assert client.send(url, "GET", "/health")["status"] == 200, f"the server stopped answering after {what}"
    assert client.send(url, "GET", "/predict")["status"] == 405
    r = client.send(url, "POST", "/predict", {"digit": 1})
    want = np.asarray(client.predict_local([{"digit": 1}])["probabilities"][0])
    assert r["status"] == 200 and r["json"]["class"] == CLASSES[int(want.argmax())], "a good request after the bad ones"


@pytest.mark.task("A7.3")
def test_413_before_the_body_is_read(student):
    client = student.module(CLIENT)
    app = client.local_app(max_bytes=5_000)
    huge = {"content-type": "multipart/form-data; boundary=x", "content-length": "900000000"}
    r = client.send(app, "POST", "/predict", content=b"--x--\r\n", headers=huge)
    assert_json_error(r, 413, "a Content-Length of 900 MB (limit 5000 bytes)")
    at_limit = {**huge, "content-length": "5000"}
    r = client.send(app, "POST", "/predict", content=b"--x--\r\n", headers=at_limit)
    assert_json_error(r, 400, "a Content-Length of exactly the limit (5000 bytes) is allowed; this body holds no file")
    assert_json_error(client.send(app, "POST", "/predict", {"random_bytes": 6_000}), 413, "a 6000-byte file")
    assert client.send(app, "POST", "/predict", {"digit": 2})["status"] == 200


@pytest.mark.task("A7.3")
def test_streamed_bodies_without_a_length_are_limited_too(student):
    client = student.module(CLIENT)
    app = client.local_app(max_bytes=5_000)
    r = client.send(app, "POST", "/predict", {"random_bytes": 5_001}, chunked=True)
    assert_json_error(r, 413, "a streamed (chunked) upload of a 5001-byte file, limit 5000")
    r = client.send(app, "POST", "/predict", {"random_bytes": 5_000}, chunked=True)
    assert_json_error(r, 400, "a streamed upload of a 5000-byte file that is not an image (limit 5000: not too large)")
    r = client.send(app, "POST", "/predict", {"digit": 2}, chunked=True)
    assert r["status"] == 200, f"a streamed upload of a digit: {r['status']} {r['text'][:300]}"
    for ctype, body in (("multipart/form-data", b"abc"), ("multipart/form-data; boundary=zz", b"no boundary here")):
        r = client.send(app, "POST", "/predict", content=body, headers={"content-type": ctype})
        assert_json_error(r, 400, f"a body that is not multipart although its content-type says {ctype!r}")


@pytest.mark.task("A7.3", weight=2)
def test_one_forward_pass_at_a_time_and_health_never_waits(student):
    client, model = student.module(CLIENT), student.module(MODEL)
    slow = model.tiny_model(delay_s=0.25)       # every forward pass takes 0.25 s more
    url = client.live_server(slow)
    done = client.send_many(url, [{"digit": i} for i in range(6)], concurrency=6, health_every_s=0.05)
    assert [r["status"] for r in done["predict"]] == [200] * 6
    seen = model.probe(slow)
    assert seen["calls"] >= 6, seen
    assert seen["max_concurrent"] == 1, f"{seen['max_concurrent']} forward passes ran at the same time: take the lock"
    assert seen["grad_enabled"] == 0, "forward passes ran with autograd on in the server"
    assert all(h["status"] == 200 for h in done["health"]), "GET /health failed while predictions ran"
    waits = sorted(h["seconds"] for h in done["health"]) or [float("inf")]
    median = waits[len(waits) // 2]
    assert median < 0.2, (f"GET /health took {median:.2f} s (median) while predictions ran: the forward pass "
                           "blocks the event loop; run it in a worker thread")


@pytest.mark.task("A7.4", weight=2)
def test_the_page_refuses_bad_files_and_keeps_working(student):
    client = student.module(CLIENT)
    specs = [{"truncated": 4}, {"pixels": np.zeros((28, 28, 4), dtype=np.uint8)}, {"random_bytes": 8_001},
             {"random_bytes": 8_000}, {"claims": [5000, 5000]}, {"digit": 5}]
    runs = client.page(specs, max_bytes=8_000)[1:]
    for spec, run, word in zip(specs, runs, ["truncated", "channels", "larger", "not an image", "pixels"]):
        assert run["exceptions"] == [], f"{spec}: an exception reached Streamlit: {run['exceptions'][0][:300]}"
        assert run["metrics"] == [] and run["charts"] == [], f"{spec}: a prediction was shown for a bad file"
        assert len(run["errors"]) == 1 and word in run["errors"][0], f"{spec}: st.error should mention {word!r}: {run['errors']}"
    last = runs[-1]
    want = np.asarray(client.predict_local([{"digit": 5}])["probabilities"][0])
    assert last["errors"] == [] and last["metrics"] == [["prediction", str(int(want.argmax()))]], last
    assert len(last["charts"]) == 1
    if last["charts"][0] is not None:         # the chart's numbers, when this Streamlit lets us read them
        assert_close(np.asarray(last["charts"][0]), want, rtol=1e-6, atol=1e-9, name="the bar chart's probabilities")
