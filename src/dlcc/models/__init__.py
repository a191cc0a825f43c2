"""The PyTorch model zoo: look models up by name, or import the classes directly.

    from dlcc.models import get_model, list_models, summarize
    model = get_model("small-cnn")                 # the course's A3 CNN, 3,893,290 params
    print(summarize(model, (3, 32, 32)).table())

Vision models live in `classic` (LeNet-5, AlexNet-style, VGG), `cnn` + `mobilenet` (the
course's small CNN), `resnet`, `unet_course` / `unet`, and `fastnet`. See docs/models.md.
"""

from dlcc.models.classic import VGG, AlexNetSmall, LeNet5
from dlcc.models.cnn import Cifar10SmallCNN
from dlcc.models.fastnet import CifarFastNet, flip_tta, whiten_init_
from dlcc.models.registry import ModelSpec, get_model, get_spec, list_models, register_model
from dlcc.models.resnet import Cifar10SmallResNet, PreActResNet18, ResNet18
from dlcc.models.summary import count_params, summarize
from dlcc.models.unet import UNet
from dlcc.models.unet_course import CourseUNet

__all__ = [
    "AlexNetSmall", "Cifar10SmallCNN", "Cifar10SmallResNet", "CifarFastNet", "CourseUNet", "LeNet5",
    "ModelSpec", "PreActResNet18", "ResNet18", "UNet", "VGG", "count_params", "flip_tta", "get_model",
    "get_spec", "list_models", "register_model", "summarize", "whiten_init_",
]
