"""A2, part (b): a PyTorch Dataset for CIFAR-10.

A `torch.utils.data.Dataset` needs two methods: `__len__` (how many samples) and
`__getitem__(idx)` (one sample). A `DataLoader` then draws indices, calls `__getitem__` for
each and stacks the results into batches.

Run `python dataset.py` to save example images and an augmented batch to result/.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


class Cifar10Dataset(Dataset):
    """CIFAR-10 images with labels.

    Args:
        X: images [H, W, C, N] float32 (the layout `util.load_data` returns).
        Y: labels [N] int64.
        transform: None, or a callable applied to one image given as a NumPy array
            [H, W, C] (the torchvision convention: `transforms.ToTensor()` turns an [H, W, C]
            array into a [C, H, W] tensor).

    Attributes set by __init__:
        images: [N, C, H, W] float32 NumPy array (one image per row, channels first).
        labels: [N] int64 NumPy array.
        transform: as given.

    Items: `dataset[idx]` is (image, label). With a transform, image is
    `transform(images[idx] as [H, W, C])`; without one, it is a float32 tensor [C, H, W].
    label is a Python int.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, transform=None):
        # TODO (A2.4): your code here
        # HINT: np.transpose with the axes order that takes [H, W, C, N] to [N, C, H, W]
        raise NotImplementedError("A2.4: this part of __init__() is not implemented yet")

    def __len__(self) -> int:
        # TODO (A2.4): your code here
        raise NotImplementedError("A2.4: this part of __len__() is not implemented yet")

    def __getitem__(self, idx):
        # TODO (A2.4): your code here
        # HINT: a transform wants [H, W, C]: transpose images[idx] back before calling it
        raise NotImplementedError("A2.4: this part of __getitem__() is not implemented yet")
        return image, label


def main() -> None:
    """Save a panel of training images and one augmented batch to result/."""
    import util
    from torch.utils.data import DataLoader
    from torchvision import transforms

    util.set_seed(1234)
    data = util.load_data(limit=(256, 16))
    X, Y = data["train"]
    plain = Cifar10Dataset(X, Y)
    images = np.stack([plain[i][0].numpy().transpose(1, 2, 0) for i in range(32)])
    print("saved", util.plot_image_array(images, [plain[i][1] for i in range(32)],
                                         util.RESULT_DIR / "cifar10_samples.png", title="samples"))
    augment = transforms.Compose([transforms.ToTensor(), transforms.RandomHorizontalFlip(0.5),
                                  transforms.RandomVerticalFlip(0.5), transforms.RandomRotation(90)])
    loader = DataLoader(Cifar10Dataset(X, Y, transform=augment), batch_size=32, shuffle=True)
    batch, labels = next(iter(loader))
    print("batch", tuple(batch.shape), batch.dtype, "labels", tuple(labels.shape))
    print("saved", util.plot_image_array(batch.numpy().transpose(0, 2, 3, 1), labels.numpy(),
                                         util.RESULT_DIR / "cifar10_augmented_batch.png",
                                         title="flips and rotations"))


if __name__ == "__main__":
    main()
