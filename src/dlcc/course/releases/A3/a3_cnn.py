"""A3 (a)-(c): train the small CNN, its MobileNet variant or the small ResNet on CIFAR-10.

    python a3_cnn.py --model cnn --num_epochs 10                  # target: test accuracy > 0.6
    python a3_cnn.py --model mobilenet --reg 0.005 --num_epochs 10   # > 0.6 - and is it faster?
    python a3_cnn.py --model resnet --reg 0.005 --num_epochs 30      # about 0.8

The course trained with batches of 2048 on GPUs. On a CPU the work per image hardly depends
on the batch size, so the default here is 128: more optimizer steps per epoch, and the
targets are reached in a few epochs. Results go to result/<model>_curves.png and
result/<model>.pt. `--max_batches N` trains only N batches per epoch (a quick look).
`dlcc run cifar10-cnn` (and -mobilenet, -resnet) runs the same networks from dlcc's zoo.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

import util
from model import Cifar10SmallCNN
from resnet_model import Cifar10SmallResNet


def make_training(model_name: str, args: argparse.Namespace):
    """The objects the training loop needs, as the course set them up.

    Args:
        model_name: "cnn" (Cifar10SmallCNN for 32×32×3), "mobilenet" (the same with
            use_mobile_net_conv=True) or "resnet" (Cifar10SmallResNet for 32×32×3).
        args: args.learning_rate, args.reg (weight decay) and args.optimizer ("sgd" or "adam").

    Returns (model, loss_func, optimizer, scheduler):
        loss_func: cross-entropy on the logits;
        optimizer: "sgd" -> SGD with momentum 0.9; otherwise Adam with betas (0.9, 0.999) and
            eps 1e-8; both with lr=args.learning_rate and weight_decay=args.reg;
        scheduler: StepLR halving the learning rate every 5 epochs (stepped once per epoch).
    """
    # TODO (A3.10): your code here
    raise NotImplementedError("A3.10: this part of make_training() is not implemented yet")
    return model, loss_func, optimizer, scheduler


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A3: CNNs on CIFAR-10")
    parser.add_argument("--model", choices=["cnn", "mobilenet", "resnet"], default="cnn")
    parser.add_argument("--num_epochs", type=int, default=10)
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--learning_rate", type=float, default=0.002)
    parser.add_argument("--reg", type=float, default=0.0025)
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="adam")
    parser.add_argument("--max_batches", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--use_gpu", action="store_true")
    return parser.parse_args(argv)


def main(argv=None) -> float:
    args = parse_args(argv)
    util.set_seed(args.seed)
    device = util.find_device(args.use_gpu)
    loader_train, loader_val, loader_test = util.cifar_loaders(args.batch_size, 3000, device, seed=args.seed)
    model, loss_func, optimizer, scheduler = make_training(args.model, args)
    model = model.to(device)
    print(f"{args.model}: {sum(p.numel() for p in model.parameters()):,} parameters")
    start = time.perf_counter()
    model, history = util.run_training_loop(model, loss_func, optimizer, scheduler, loader_train, loader_val,
                                            args.num_epochs, args.max_batches)
    test_accuracy = util.compute_accuracy(model, loader_test)
    print(f"test accuracy {test_accuracy:.4f} after {time.perf_counter() - start:.0f} s")
    util.plot_curves(history, util.RESULT_DIR / f"{args.model}_curves.png", f"A3 {args.model}")
    torch.save({"model": model.state_dict(), "args": vars(args)}, util.RESULT_DIR / f"{args.model}.pt")
    return test_accuracy


if __name__ == "__main__":
    main()
