"""The NumPy engine: layers, losses, optimizers, schedules, init, gradcheck and autograd.

Every layer follows PyTorch's names, shapes and parameter layouts, so the weights of a torch
module can be copied in and the two compared (see tests/scratch). The contract:

    y = layer.forward(x)      # caches what backward needs
    dx = layer.backward(dy)   # returns dL/dx and fills layer.grads (same keys as layer.params)
"""

from dlcc.scratch.base import Module, check_array
from dlcc.scratch.layers import (GELU, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout,
                                 Embedding, Flatten, LayerNorm, LeakyReLU, Linear, MaxPool2d, ReLU,
                                 Sequential, Sigmoid, Softmax, Tanh)
from dlcc.scratch.layers import (LearnedPositionalEncoding, MultiheadAttention,
                                 SinusoidalPositionalEncoding, TransformerBlock)
from dlcc.scratch.losses import (BCEWithLogitsLoss, CrossEntropyLoss, MSELoss,
                                 binary_cross_entropy_with_logits, cross_entropy, mse_loss,
                                 softmax_cross_entropy)
from dlcc.scratch.models import mlp

__all__ = ["Module", "check_array",
           "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "Dropout", "Embedding", "Flatten",
           "GELU", "LayerNorm", "LeakyReLU", "Linear", "MaxPool2d", "ReLU", "Sequential",
           "Sigmoid", "Softmax", "Tanh",
           "LearnedPositionalEncoding", "MultiheadAttention", "SinusoidalPositionalEncoding",
           "TransformerBlock",
           "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "binary_cross_entropy_with_logits",
           "cross_entropy", "mse_loss", "softmax_cross_entropy", "mlp"]
