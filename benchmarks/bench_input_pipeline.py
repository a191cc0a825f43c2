"""Input pipelines: samples/s against DataLoader worker processes, for three kinds of data.

    python benchmarks/bench_input_pipeline.py --save benchmarks/results/input_pipeline

1. CIFAR-10 from its JPEG zip, decoded per image with PIL and augmented with torchvision
   (random crop + flip), as a classic map-style Dataset - the pipeline dlcc does *not* use -
   next to dlcc's `CifarBatches` (decoded once, kept as uint8 tensors, augmented a batch at a time).
2. ISBI 2012 training patches (`RandomPatches`: random crop, flip and rotation per item).
3. MIT-BIH ECG chunks (`ECGChunks`: random start, soft targets, augmentation per item).

Each pipeline is read for `--batches` batches (after one warm-up batch) with 0, 1 and 2 worker
processes (pinned memory on when a GPU is present, persistent workers), in the same process,
one after another. Reported: samples/s (wall) and the main process's CPU seconds per 1,000
samples (workers' CPU is not in it: with 2 cores, what they take comes out of training).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import report  # noqa: E402


class JpegCifar(Dataset):
    """CIFAR-10 training JPEGs decoded one by one (the per-image pipeline, for comparison)."""

    def __init__(self, zip_path: Path, limit: int = 5000):
        from torchvision import transforms

        self.zip_path = zip_path
        with zipfile.ZipFile(zip_path) as zf:
            self.names = sorted(n for n in zf.namelist() if n.endswith(".jpg"))[:limit]
        self.classes = sorted({n.split("/")[-2] for n in self.names})
        self.zf, self.pid = None, None
        self.tf = transforms.Compose([transforms.RandomCrop(32, padding=4, padding_mode="reflect"),
                                      transforms.RandomHorizontalFlip(), transforms.ToTensor()])

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int):
        from PIL import Image

        if self.pid != os.getpid():  # one handle per process (a forked worker must not share the file offset)
            self.zf, self.pid = zipfile.ZipFile(self.zip_path), os.getpid()
        name = self.names[i]
        image = Image.open(io.BytesIO(self.zf.read(name))).convert("RGB")
        return self.tf(image), self.classes.index(name.split("/")[-2])


def measure(make_loader, batches: int) -> dict:
    loader = make_loader()
    it = iter(loader)
    next(it)                                      # warm-up: workers start, caches fill
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    for _ in range(batches):
        try:
            x, _ = next(it)
        except StopIteration:
            it = iter(loader)
            x, _ = next(it)
        n += len(x)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"samples_per_s": n / wall, "main_cpu_s_per_1000": 1000 * cpu / n}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--workers", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--save", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from dlcc.data import load_cifar10, load_isbi2012, load_mitbih
    from dlcc.data.cifar_gpu import CifarBatches
    from dlcc.data.resolve import ensure
    from dlcc.recipes._segment import RandomPatches
    from dlcc.signals import ECGChunks, prepare_record

    pin = torch.cuda.is_available()
    zip_path = ensure("cifar10", variant="jpeg", only=["cifar10_train_jpg.zip"]).paths["cifar10_train_jpg.zip"]
    jpeg = JpegCifar(zip_path)
    x, y = load_cifar10()["train"]
    isbi = load_isbi2012()
    pairs = [(torch.from_numpy(isbi["train_images"][i]).float()[None] / 255,
              torch.from_numpy((isbi["train_labels"][i] > 0).astype(np.float32))[None]) for i in range(23)]
    patches = RandomPatches(pairs, 256, 10_000)
    records = [prepare_record(r, 2) for r in load_mitbih(["100", "101", "103", "105"])]
    chunks = ECGChunks(records, 1024, 8.0, "random", 5000, seed=0, augment=True)

    def loader(ds, batch, workers):
        return lambda: DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers, pin_memory=pin,
                                  persistent_workers=workers > 0, prefetch_factor=2 if workers else None)

    rows = []
    for name, ds, batch in (("CIFAR-10, JPEG decoded per image", jpeg, 128), ("ISBI patches 256²", patches, 8),
                            ("MIT-BIH chunks of 1024", chunks, 32)):
        for workers in args.workers:
            r = measure(loader(ds, batch, workers), args.batches)
            rows.append({"pipeline": name, "workers": workers, "batch": batch, **r})
            print(rows[-1], flush=True)
    r = measure(lambda: CifarBatches(x, y, 128, shuffle=True, augment={"crop": 4, "flip": "random"}, seed=0),
                args.batches)
    rows.append({"pipeline": "CIFAR-10, dlcc CifarBatches (decoded once)", "workers": 0, "batch": 128, **r})
    print(rows[-1], flush=True)
    lines = ["# Input pipelines: samples/s against DataLoader workers", "",
             "| pipeline | batch | workers | samples/s | main-process CPU s / 1000 samples |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['pipeline']} | {r['batch']} | {r['workers']} | {r['samples_per_s']:,.0f} | "
              f"{r['main_cpu_s_per_1000']:.3f} |" for r in rows]
    report(lines, args.save, {"rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
