"""The checks that make maps trustworthy, on a trained CNN and real digits: completeness of
integrated gradients, the model-randomisation sanity check (with a control that must fail it),
deletion/insertion against a random ranking; U-Net regions; bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcc.errors import InputError
from dlcc.interpret import RegionScore, attribute, box_region, cascading_randomisation, completeness_gap, \
    deletion_insertion, explainer, integrated_gradients, random_maps, saliency


def test_integrated_gradients_add_up_to_the_change_of_the_score(digits, trained_cnn):
    x = digits[0][1500:1504]
    t = trained_cnn(x).argmax(1)
    with torch.no_grad():
        scale = float(trained_cnn(x).abs().max())
    for rule, steps in (("gausslegendre", 64), ("riemann_trapezoid", 256)):
        attr = integrated_gradients(trained_cnn, x, t, steps=steps, rule=rule)
        assert float(completeness_gap(trained_cnn, x, attr, t).abs().max()) < 0.02 * scale, rule


def test_maps_change_when_the_model_is_randomised_and_an_edge_detector_does_not(digits, trained_cnn):
    x = digits[0][1500:1508]
    t = trained_cnn(x).argmax(1)
    rows = cascading_randomisation(trained_cnn, x, t, explainer("saliency"))
    assert [r["layer"] for r in rows] == ["8", "4", "1", "0"]          # from the output to the input
    assert rows[-1]["spearman"] < 0.5
    edges = lambda model, images, target: (images[..., 1:, 1:] - images[..., :-1, :-1]).abs()[:, 0]  # noqa: E731
    control = cascading_randomisation(trained_cnn, x, t, edges)
    assert all(r["spearman"] == pytest.approx(1.0) for r in control)


def test_deletion_and_insertion_beat_a_random_ranking(digits, trained_cnn):
    x = digits[0][1500:1580]
    t = trained_cnn(x).argmax(1)
    chance = deletion_insertion(trained_cnn, x, random_maps(x, torch.Generator().manual_seed(0)), t, steps=16)
    for method, options in (("occlusion", {"window": (4, 4), "stride": (2, 2)}), ("integrated_gradients", {})):
        maps = explainer(method, **options)(trained_cnn, x, t)
        scores = deletion_insertion(trained_cnn, x, maps, t, steps=16)
        assert float(scores["deletion"].mean()) < float(chance["deletion"].mean()), method
        assert float(scores["insertion"].mean()) > float(chance["insertion"].mean()), method
    curve = scores["deletion_curve"]
    assert curve.shape == (80, 17) and torch.allclose(curve[:, 0], torch.softmax(trained_cnn(x), 1).gather(
        1, t[:, None])[:, 0])


def test_region_score_explains_only_what_reaches_the_region():
    torch.manual_seed(0)
    pointwise = nn.Conv2d(2, 1, 1)                      # each output pixel sees its own input pixel only
    region = box_region(8, 8, (2, 3, 5, 6))
    grad = saliency(RegionScore(pointwise, region), torch.rand(1, 2, 8, 8), absolute=False)
    inside = region.expand(1, 2, 8, 8)
    assert bool((grad[~inside] == 0).all()) and bool((grad[inside] != 0).all())
    torch.testing.assert_close(grad[0, :, 3, 4], pointwise.weight[0, :, 0, 0] / 9)


def test_unet_maps_match_captum_through_the_region_score():
    captum_attr = pytest.importorskip("captum.attr")
    from dlcc.models import UNet

    torch.manual_seed(0)
    unet = UNet(in_channels=1, depth=2, width=4).eval()
    score = RegionScore(unet, box_region(24, 24, (4, 4, 12, 12)))
    x = torch.rand(2, 1, 24, 24)
    ref = captum_attr.Saliency(score).attribute(x, target=0, abs=True)
    torch.testing.assert_close(attribute("saliency", score, x), ref, rtol=0, atol=1e-5)
    cam = attribute("gradcam", score, x)
    assert cam.shape == (2, 1, 24, 24) and bool((cam >= 0).all())


@pytest.mark.parametrize("call, message", [
    (lambda m, x: saliency(m, x, 12), "does not name one of the 10 outputs"),
    (lambda m, x: saliency(m, x), "say which one to explain"),
    (lambda m, x: attribute("gradcam", m, x, 0, layer="fc9"), "has no layer 'fc9'"),
    (lambda m, x: attribute("occlusion", m, x, 0, window=(40, 40)), "do not fit a 16x16 image"),
    (lambda m, x: attribute("lime", m, x, 0), "unknown attribution method 'lime'"),
    (lambda m, x: integrated_gradients(m, x, 0, steps=1), "needs steps >= 2"),
])
def test_bad_input_is_a_clear_error(digits, trained_cnn, call, message):
    with pytest.raises(InputError, match=message):
        call(trained_cnn, digits[0][:2])


def test_region_outside_the_image_is_a_clear_error():
    with pytest.raises(InputError, match="not inside the 8x8 image"):
        box_region(8, 8, (0, 0, 9, 4))
