"""NumPy layers with PyTorch's names, shapes and parameter layouts.

    y = layer.forward(x)     # caches what backward needs
    dx = layer.backward(dy)  # returns dL/dx and fills layer.grads (same keys as layer.params)
"""

from dlcc.scratch.layers.activations import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from dlcc.scratch.layers.container import Sequential
from dlcc.scratch.layers.conv import Conv2d
from dlcc.scratch.layers.dropout import Dropout
from dlcc.scratch.layers.embedding import Embedding
from dlcc.scratch.layers.linear import Linear
from dlcc.scratch.layers.multihead import MultiheadAttention
from dlcc.scratch.layers.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from dlcc.scratch.layers.pool import AvgPool2d, MaxPool2d
from dlcc.scratch.layers.positions import LearnedPositionalEncoding, SinusoidalPositionalEncoding
from dlcc.scratch.layers.shape import Flatten
from dlcc.scratch.layers.transformer import TransformerBlock

__all__ = ["AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "Dropout", "Embedding", "Flatten",
           "GELU", "LayerNorm", "LeakyReLU", "Linear", "MaxPool2d", "ReLU", "Sequential",
           "Sigmoid", "Softmax", "Tanh",
           "LearnedPositionalEncoding", "MultiheadAttention", "SinusoidalPositionalEncoding",
           "TransformerBlock"]
