"""Attribution maps for classifiers and U-Nets, written the way the lecture derives them, and
the two checks that make such maps trustworthy.

    from dlcc.interpret import attribute, to_map, RegionScore
    attr = attribute("smoothgrad", model, x, target=3, samples=25, noise=0.15)   # like x
    maps = to_map("smoothgrad", attr)                                            # [B, H, W]
    attribute("gradcam", RegionScore(unet, region), x)                           # a U-Net region

Methods (`METHODS`): saliency, smoothgrad, integrated_gradients, gradcam, occlusion — each a
plain function of (model, x, target, **options). Checks: `cascading_randomisation` (maps must
change when the weights are destroyed) and `deletion_insertion` (removing what the map ranks
first must hurt the prediction). `render` draws overlays. See docs/interpret.md.
"""

from dlcc.interpret.faithfulness import auc, blur, deletion_insertion, random_maps
from dlcc.interpret.gradcam import gradcam, last_conv
from dlcc.interpret.gradients import saliency, smoothgrad
from dlcc.interpret.integrated_gradients import completeness_gap, integrated_gradients, quadrature
from dlcc.interpret.methods import METHODS, attribute, explainer, to_map
from dlcc.interpret.occlusion import occlusion
from dlcc.interpret.sanity import cascading_randomisation, parametrised_layers, spearman
from dlcc.interpret.targets import RegionScore, box_region, select

__all__ = ["METHODS", "RegionScore", "attribute", "auc", "blur", "box_region", "cascading_randomisation",
           "completeness_gap", "deletion_insertion", "explainer", "gradcam", "integrated_gradients", "last_conv",
           "occlusion", "parametrised_layers", "quadrature", "random_maps", "saliency", "select", "smoothgrad",
           "spearman", "to_map"]
