"""Transfer learning without hub weights: pretrain dlcc's own backbone, save it, reuse it.

    from dlcc.transfer import build_backbone, save_backbone, load_backbone, TransferNet

    backbone = build_backbone("fastnet", widths=[32, 64, 128])     # images -> [B, 128] features
    save_backbone("run/backbone.pt", backbone, "fastnet", {"widths": [32, 64, 128]})
    load_backbone(backbone, "run/backbone.pt")                       # strict; names mismatching layers
    model = TransferNet(backbone, num_classes=5, frozen=True)        # linear probe
    groups = discriminative_groups(model, lr=1e-3, factor=0.5)       # fine-tuning, per-stage LRs

The flow (recipes `cifar10-pretrain`, `cifar10-transfer`; docs/transfer.md):

    backbone.py     architectures by name; each names its stages, input first
    checkpoint.py   backbone.pt (weights + architecture + config, weights-only loadable)
    model.py        TransferNet (backbone + new head, optionally frozen), discriminative LR groups
    splits.py       target classes relabelled; balanced labelled / validation samples
    fit.py          train one mode, choosing the LR on validation (never on test)
    config.py       the `transfer` and `model` sections of the recipes
"""

from dlcc.transfer.backbone import ARCHITECTURES, FastNetBackbone, backbone_stages, build_backbone
from dlcc.transfer.checkpoint import (describe_mismatch, load_backbone, read_backbone, resolve_backbone_path,
                                      save_backbone)
from dlcc.transfer.config import BackboneModel, TransferSettings
from dlcc.transfer.fit import fit_transfer, transfer_model
from dlcc.transfer.model import MODES, TransferNet, discriminative_groups
from dlcc.transfer.splits import class_subset, labelled_split

__all__ = ["ARCHITECTURES", "BackboneModel", "FastNetBackbone", "MODES", "TransferNet", "TransferSettings",
           "backbone_stages", "build_backbone", "class_subset", "describe_mismatch", "discriminative_groups",
           "fit_transfer", "labelled_split", "load_backbone", "read_backbone", "resolve_backbone_path",
           "save_backbone", "transfer_model"]
