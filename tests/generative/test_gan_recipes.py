"""The GAN recipes through `dlcc run` on real data in small slices: what a run writes, its
metrics, opening it with load_run, exact resume, and bad settings refused with exit 2."""

from __future__ import annotations

import json

import pytest
import torch

from dlcc.cli import main
from dlcc.recipes import load_run

pytestmark = pytest.mark.data
TINY_MNIST = ["--set", "train.steps=6", "train.eval_every=3", "data.subset=640", "data.val_size=300",
              "eval.samples=200", "eval.val_samples=100", "eval.copy_samples=50"]


@pytest.fixture(autouse=True)
def _shared(shared_data, decoded_cache, monkeypatch):
    monkeypatch.setenv("DLCC_CACHE", str(decoded_cache))       # decode MNIST and MIT-BIH once per session


def _run(capsys, *args):
    code = main(["run", *args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_mnist_cgan_writes_samples_scores_and_a_loadable_model(tmp_path, capsys):
    out = tmp_path / "cgan"
    code, _, err = _run(capsys, "mnist-cgan", "--out", str(out), *TINY_MNIST)
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    for key in ("test_fd", "test_fd_floor", "test_fd_collapsed", "test_fd_ratio", "test_cond_accuracy",
                "test_nn_ratio", "test_near_copy_rate", "val_fd", "train_d_loss", "train_g_loss"):
        assert isinstance(m[key], float), key
    assert m["test_fd_floor"] < m["test_fd_collapsed"]          # real vs real beats one image per class
    assert m["selected_on"] == "val_fd" and m["best_step"] in (3, 6)
    for png in ("samples.png", "nearest_neighbours.png", "curves.png", "samples/step_000003.png",
                "samples/step_000006.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG", png
    run = load_run(out)
    assert set(run.model) == {"G", "D", "G_ema"} and run.artifacts["conditional"] is True
    with torch.no_grad():
        images = run.model["G_ema"](torch.randn(4, run.artifacts["latent"]), torch.tensor([0, 1, 2, 3]))
    assert images.shape == (4, 1, 28, 28)


@pytest.mark.slow
def test_mnist_gan_resumes_exactly(tmp_path, capsys):
    """3 steps, then --resume to 6, gives the weights of 6 steps in one go (noise, data order,
    both optimizers and the moving average all come back from the checkpoint)."""
    full, part = tmp_path / "full", tmp_path / "part"
    assert _run(capsys, "mnist-gan", "--out", str(full), *TINY_MNIST)[0] == 0
    assert _run(capsys, "mnist-gan", "--out", str(part), *TINY_MNIST, "train.steps=3")[0] == 0
    assert _run(capsys, "--resume", "--out", str(part), "--set", "train.steps=6")[0] == 0
    a = torch.load(full / "model.pt", weights_only=True)["model"]
    b = torch.load(part / "model.pt", weights_only=True)["model"]
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_mnist_wgan_gp_scores_an_unconditional_generator(tmp_path, capsys):
    """WGAN-GP end to end: n_critic = 5 critic steps per generator step, each on a fresh real
    batch, a layer-normalised critic, and the class-coverage scores of an unconditional model."""
    out = tmp_path / "wgan"
    code, stdout, err = _run(capsys, "mnist-wgan-gp", "--out", str(out), *TINY_MNIST, "train.steps=2",
                             "train.eval_every=2", "train.batch_size=16")
    assert code == 0, err
    assert "80 per step (5 discriminator step(s) per generator step, loss wgan-gp)" in stdout + err
    m = json.loads((out / "metrics.json").read_text())
    assert m["steps"] == 2 and m["selected_on"] == "val_fd"
    for key in ("test_fd", "test_fd_floor", "test_fd_collapsed", "test_class_min_share", "test_class_entropy"):
        assert isinstance(m[key], float), key
    assert "test_cond_accuracy" not in m and 0 <= m["test_class_entropy"] <= 1
    assert (out / "samples.png").read_bytes()[:4] == b"\x89PNG"
    run = load_run(out)
    assert run.artifacts["conditional"] is False and run.config.gan.d_steps == 5
    assert not any(isinstance(mod, torch.nn.BatchNorm2d) for mod in run.model["D"].modules())


@pytest.mark.slow
def test_ecg_beat_gan_on_two_records(tmp_path, capsys):
    out = tmp_path / "beats"
    code, _, err = _run(capsys, "ecg-beat-gan", "--out", str(out), "--set", "data.records=[119,233]",
                        "train.steps=4", "train.eval_every=2", "eval.val_samples=100", "eval.copy_samples=50")
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    for cls in ("normal", "ventricular"):
        assert m[f"test_fd_floor_{cls}"] < m[f"test_fd_collapsed_{cls}"], cls
        assert isinstance(m[f"test_fd_{cls}"], float)
    assert 0 <= m["test_cond_accuracy"] <= 1 and m["selected_on"] == "val_fd"
    assert (out / "beats.png").read_bytes()[:4] == b"\x89PNG"
    assert load_run(out).artifacts["classes"] == ["normal", "ventricular"]


@pytest.mark.slow
def test_ecg_beat_gan_resumes_exactly(tmp_path, capsys):
    """The 1-D conditional GAN: 2 steps then --resume to 4 equals 4 steps in one go."""
    tiny = ["--set", "data.records=[119,233]", "train.steps=4", "train.eval_every=2", "eval.val_samples=100",
            "eval.copy_samples=50"]
    full, part = tmp_path / "full", tmp_path / "part"
    assert _run(capsys, "ecg-beat-gan", "--out", str(full), *tiny)[0] == 0
    assert _run(capsys, "ecg-beat-gan", "--out", str(part), *tiny, "train.steps=2")[0] == 0
    assert _run(capsys, "--resume", "--out", str(part), "--set", "train.steps=4")[0] == 0
    a = torch.load(full / "model.pt", weights_only=True)["model"]
    b = torch.load(part / "model.pt", weights_only=True)["model"]
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_ecg_lead_cyclegan_scores_held_out_pairs(tmp_path, capsys):
    out = tmp_path / "cycle"
    code, _, err = _run(capsys, "ecg-lead-cyclegan", "--out", str(out), "--set", "data.source_records=[100]",
                        "data.target_records=[105]", "data.val_records=[203]", "data.test_records=[116]",
                        "data.hop=2048", "train.steps=3", "train.eval_every=3", "train.batch_size=8")
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    for key in ("test_mae_ab", "test_corr_ab", "test_mae_ba", "test_mae_copy_ab", "test_mae_inverted_ab",
                "test_mae_zero", "val_mae_ab"):
        assert isinstance(m[key], float), key
    assert m["test_corr_inverted_ab"] == pytest.approx(-m["test_corr_copy_ab"])
    assert (out / "translation.png").read_bytes()[:4] == b"\x89PNG"
    assert set(load_run(out).model) == {"G_ab", "G_ba", "D_a", "D_b"}


@pytest.mark.slow
def test_ecg_lead_cyclegan_resumes_exactly(tmp_path, capsys):
    """Two generators, two discriminators and their optimizers: 1 step then --resume to 2
    equals 2 steps in one go."""
    tiny = ["--set", "data.source_records=[100]", "data.target_records=[105]", "data.val_records=[203]",
            "data.test_records=[116]", "data.hop=4096", "train.steps=2", "train.eval_every=1", "train.batch_size=4",
            "model.channels=4", "model.blocks=1", "model.d_channels=8"]
    full, part = tmp_path / "full", tmp_path / "part"
    assert _run(capsys, "ecg-lead-cyclegan", "--out", str(full), *tiny)[0] == 0
    assert _run(capsys, "ecg-lead-cyclegan", "--out", str(part), *tiny, "train.steps=1")[0] == 0
    assert _run(capsys, "--resume", "--out", str(part), "--set", "train.steps=2")[0] == 0
    a = torch.load(full / "model.pt", weights_only=True)["model"]
    b = torch.load(part / "model.pt", weights_only=True)["model"]
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("recipe, args, fragment", [
    ("mnist-wgan-gp", ["model.norm=batch"], "--set model.norm=layer"),
    ("mnist-gan", ["gan.d_steps=0"], "gan.d_steps"),
    ("mnist-gan", ["gan.loss=hinge"], "takes one of gan, wgan-gp"),
    ("mnist-gan", ["model.conditioning=projection"], "needs model.conditional=true"),
    ("ecg-lead-cyclegan", ["data.test_records=[105]"], "are in both data.target_records and data.test_records"),
    ("ecg-lead-cyclegan", ["data.length=500"], "not divisible by 16"),
    ("ecg-beat-gan", ["data.records=[101,103]"], "hold no ventricular beats"),
    ("ecg-beat-gan", ["data.records=[999]"], "unknown MIT-BIH record '999'"),
])
def test_bad_settings_exit_2_and_leave_nothing(tmp_path, capsys, recipe, args, fragment):
    out = tmp_path / "run"
    code, _, err = _run(capsys, recipe, "--out", str(out), "--set", *args)
    assert code == 2, err
    assert fragment in err and "Traceback" not in err
    assert not out.exists()
