"""Contrastive self-supervised learning: SimCLR and the linear probe that scores it.

    from dlcc.contrastive import SimCLRModel, SimCLRStep, TwoViews, SimCLRAugment, nt_xent, probe_accuracy

    model = SimCLRModel(encoder)                            # encoder + projection head
    step = SimCLRStep(model, TwoViews(SimCLRAugment()), optimizer, temperature=0.2)
    # the training loop's custom-step mode runs `step` on batches of unlabelled images
    h = extract_features(model.encoder, images, prepare)   # frozen features
    probe_accuracy(h_train, y_train, h_test, y_test)        # weight decay chosen on validation

The flow (docs/contrastive.md):

    loss.py       NT-Xent (normalised temperature-scaled cross-entropy)
    augment.py    two random views per image, drawn per image on whole batches
    model.py      projection head, encoder + head
    step.py       one SimCLR training step for the loop's custom-step mode
    probe.py      frozen features -> logistic regression, regularisation chosen on validation
    segment.py    contrastive pretraining of a U-Net encoder on unlabelled images, fine-tuning on few masks
"""

from dlcc.contrastive.augment import SimCLRAugment, TwoViews, colour_jitter, random_greyscale, resized_crop_flip
from dlcc.contrastive.loss import nt_xent, positive_accuracy
from dlcc.contrastive.model import ProjectionHead, SimCLRModel
from dlcc.contrastive.probe import LinearProbe, extract_features, probe_accuracy
from dlcc.contrastive.step import SimCLRStep

__all__ = ["LinearProbe", "ProjectionHead", "SimCLRAugment", "SimCLRModel", "SimCLRStep", "TwoViews",
           "colour_jitter", "extract_features", "nt_xent", "positive_accuracy", "probe_accuracy",
           "random_greyscale", "resized_crop_flip"]
