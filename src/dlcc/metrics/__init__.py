"""Metrics in pure torch (numpy arrays accepted): classification and binary segmentation.

All functions take `(pred, target)`, like the losses. See `classification` and `segmentation`.
"""

from dlcc.metrics.classification import (ConfusionMatrix, accuracy, confusion_matrix, per_class_accuracy,
                                         per_sample_cross_entropy, top_losses)
from dlcc.metrics.segmentation import binarize, dice_per_image, iou_per_image, mean_dice, mean_iou

__all__ = ["ConfusionMatrix", "accuracy", "binarize", "confusion_matrix", "dice_per_image", "iou_per_image",
           "mean_dice", "mean_iou", "per_class_accuracy", "per_sample_cross_entropy", "top_losses"]
