"""Segmentation data: paired augmentation, padding, tiling, and image/mask datasets.

Conventions (all torch tensors):
- an image is `[C, H, W]` float32, a mask is `[1, H, W]` float32 with values 0 or 1
  (binary foreground); a batch adds a leading `B`.
- paired transforms take and return `(image, mask)` and apply the *same* random geometric
  change to both, so labels stay aligned with pixels. Randomness comes from torch's global
  generator (seed it with `dlcc.utils.seed.seed_everything`; DataLoader workers get distinct
  torch seeds automatically).

Folder input (`SegmentationFolder`): any folder of images plus a folder of masks, matched by
file stem (`cell01.png` ↔ `cell01.png`, or `cell01_mask.tif` with `mask_suffix="_mask"`);
png, tif and jpg are accepted. Problems are `DataError`s that name the offending file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from dlcc.errors import DataError, InputError

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg")
Pads = tuple[int, int, int, int]  # (left, right, top, bottom), the order F.pad uses


# ----------------------------------------------------------------------------------- padding
def pad_to_multiple(x: Tensor, multiple: int, mode: str = "reflect") -> tuple[Tensor, Pads]:
    """Pad the last two dims of `x` (`[..., H, W]`) up to multiples of `multiple` (e.g. 2**depth).

    Padding is split evenly between the two sides. `mode` is an `F.pad` mode; "reflect" falls
    back to "replicate" when the input is too small to reflect. Returns `(padded, pads)`;
    `unpad(y, pads)` removes it again from any output with the same spatial size.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    pads = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
    return _pad(x, pads, mode), pads


def pad_to_size(x: Tensor, size: tuple[int, int], mode: str = "reflect") -> tuple[Tensor, Pads]:
    """Pad `[..., H, W]` to at least `size = (H', W')`, evenly on both sides; returns `(x, pads)`."""
    ph, pw = max(0, size[0] - x.shape[-2]), max(0, size[1] - x.shape[-1])
    pads = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
    return _pad(x, pads, mode), pads


def unpad(x: Tensor, pads: Pads) -> Tensor:
    """Undo `pad_to_multiple` / `pad_to_size` on `[..., H, W]`."""
    left, right, top, bottom = pads
    return x[..., top:x.shape[-2] - bottom, left:x.shape[-1] - right]


def _pad(x: Tensor, pads: Pads, mode: str) -> Tensor:
    if not any(pads):
        return x
    if mode == "reflect" and (max(pads[:2]) >= x.shape[-1] or max(pads[2:]) >= x.shape[-2]):
        mode = "replicate"  # reflect needs pad < size
    if mode == "constant":
        return F.pad(x, pads)
    # F.pad's reflect/replicate want a batch dim (and a float dtype for replicate)
    lead = x.shape[:-2]
    flat = x.reshape(-1, 1, *x.shape[-2:])
    out = F.pad(flat.float() if not flat.is_floating_point() else flat, pads, mode=mode)
    return out.to(x.dtype).reshape(*lead, *out.shape[-2:])


# -------------------------------------------------------------------------- paired transforms
def _check_pair(image: Tensor, mask: Tensor) -> None:
    if image.shape[-2:] != mask.shape[-2:]:
        raise InputError(f"image {tuple(image.shape)} and mask {tuple(mask.shape)} differ in height/width",
                         fix="pass a mask of the same H×W as its image")


class PairedCompose:
    """Apply paired transforms in order: `PairedCompose([t1, t2])(image, mask)`."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, image: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        for t in self.transforms:
            image, mask = t(image, mask)
        return image, mask


class PairedRandomFlip:
    """Flip image and mask together with probability `p` along `dim` (-1 horizontal, -2 vertical)."""

    def __init__(self, p: float = 0.5, dim: int = -1):
        self.p, self.dim = p, dim

    def __call__(self, image: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        _check_pair(image, mask)
        if torch.rand(()) < self.p:
            return image.flip(self.dim), mask.flip(self.dim)
        return image, mask


class PairedRandomRot90:
    """Rotate image and mask together by k·90°, k uniform in {0, 1, 2, 3}.

    Non-square inputs swap H and W for odd k; combine with a square crop if batches need one size.
    """

    def __call__(self, image: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        _check_pair(image, mask)
        k = int(torch.randint(0, 4, ()))
        return image.rot90(k, dims=(-2, -1)), mask.rot90(k, dims=(-2, -1))


class PairedRandomCrop:
    """Crop the same random `size = (h, w)` window from image and mask.

    Inputs smaller than `size` are first padded (image: reflect, mask: zeros) when
    `pad_if_needed`, else an `InputError` is raised. This also turns a folder of mixed-size
    images into batches of one size.
    """

    def __init__(self, size: int | tuple[int, int], pad_if_needed: bool = True):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.pad_if_needed = pad_if_needed

    def __call__(self, image: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        _check_pair(image, mask)
        th, tw = self.size
        h, w = image.shape[-2:]
        if h < th or w < tw:
            if not self.pad_if_needed:
                raise InputError(f"cannot crop {th}×{tw} from an image of {h}×{w}",
                                 fix="use a smaller crop size or pad_if_needed=True")
            image, _ = pad_to_size(image, (th, tw), "reflect")
            mask, _ = pad_to_size(mask, (th, tw), "constant")
            h, w = image.shape[-2:]
        top = int(torch.randint(0, h - th + 1, ()))
        left = int(torch.randint(0, w - tw + 1, ()))
        return (image[..., top:top + th, left:left + tw], mask[..., top:top + th, left:left + tw])


def default_augmentation(crop: int | tuple[int, int] | None = None) -> PairedCompose:
    """Horizontal + vertical flips and 90° rotations (the 8 symmetries of a square), then an
    optional random crop. Suits microscopy, which has no preferred orientation."""
    steps: list[Callable] = [PairedRandomFlip(0.5, -1), PairedRandomFlip(0.5, -2), PairedRandomRot90()]
    if crop is not None:
        steps.append(PairedRandomCrop(crop))
    return PairedCompose(steps)


# ------------------------------------------------------------------------------------ tiling
def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size `tile` covering `[0, length)` with at least `overlap` overlap.

    The last tile is shifted back to end exactly at `length`, so every tile is full-size.
    """
    if tile > length:
        raise InputError(f"tile size {tile} is larger than the image side {length}",
                         fix="use a smaller tile, or pad the image first (predict_tiled does)")
    if not 0 <= overlap < tile:
        raise InputError(f"overlap must be in [0, tile={tile}), got {overlap}", fix="use e.g. overlap=tile//8")
    stride = tile - overlap
    n = max(1, math.ceil((length - tile) / stride) + 1)
    starts = [min(i * stride, length - tile) for i in range(n)]
    return sorted(set(starts))


def tile_image(image: Tensor, tile: int | tuple[int, int], overlap: int = 0
               ) -> tuple[Tensor, list[tuple[int, int]]]:
    """Cut `[C, H, W]` into overlapping tiles `[N, C, th, tw]`; returns tiles and their (top, left)."""
    th, tw = (tile, tile) if isinstance(tile, int) else tile
    h, w = image.shape[-2:]
    positions = [(y, x) for y in tile_starts(h, th, overlap) for x in tile_starts(w, tw, overlap)]
    tiles = torch.stack([image[..., y:y + th, x:x + tw] for y, x in positions])
    return tiles, positions


def stitch_tiles(tiles: Tensor, positions: Sequence[tuple[int, int]], size: tuple[int, int]) -> Tensor:
    """Put tile predictions `[N, K, th, tw]` back into a `[K, H, W]` map, averaging overlaps."""
    n, k, th, tw = tiles.shape
    if n != len(positions):
        raise InputError(f"{n} tiles but {len(positions)} positions", fix="pass the positions from tile_image")
    total = torch.zeros((k, *size), dtype=torch.float32, device=tiles.device)
    count = torch.zeros((1, *size), dtype=torch.float32, device=tiles.device)
    for t, (y, x) in zip(tiles, positions):
        total[:, y:y + th, x:x + tw] += t.float()
        count[:, y:y + th, x:x + tw] += 1
    return total / count


@torch.no_grad()
def predict_tiled(predict: Callable[[Tensor], Tensor], image: Tensor, tile: int = 256,
                  overlap: int = 32, batch_size: int = 4) -> Tensor:
    """Run `predict` (`[B, C, t, t]` → `[B, K, t, t]`, e.g. a U-Net) over a large `[C, H, W]` image
    tile by tile and stitch the result into `[K, H, W]`. Images smaller than a tile are padded
    (reflect) and the padding is cut off again. Choose `tile` as a multiple of 2**depth."""
    h, w = image.shape[-2:]
    padded, pads = pad_to_size(image, (tile, tile))
    tiles, positions = tile_image(padded, tile, overlap)
    outs = [predict(tiles[i:i + batch_size]) for i in range(0, len(tiles), batch_size)]
    stitched = stitch_tiles(torch.cat(outs), positions, tuple(padded.shape[-2:]))
    return unpad(stitched, pads)[..., :h, :w]


# ------------------------------------------------------------------------------ array dataset
def _to_float_image(x: np.ndarray | Tensor) -> Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x)
    if t.dtype == torch.bool:
        return t.float()
    if not t.is_floating_point():
        return t.float() / float(torch.iinfo(t.dtype).max)  # uint8 → /255, uint16 → /65535
    return t.float()


class SegmentationArrays(Dataset):
    """Image/mask pairs held in memory.

    Args:
        images: `[N, H, W]` (grey), `[N, C, H, W]` or `[N, H, W, C]` (set `channels_last`, or
            leave None to guess: a last dim of 1, 3 or 4 with a second dim that is not).
            Integer arrays are scaled by their dtype's maximum; floats are kept.
        masks: `[N, H, W]`, `[N, 1, H, W]` or `[N, H, W, 1]`; foreground is `mask > 0`.
        transform: a paired transform `(image, mask) -> (image, mask)`, e.g. `default_augmentation()`.

    Items: `(image [C, H, W] float32, mask [1, H, W] float32 in {0, 1})`.
    """

    def __init__(self, images, masks, transform: Callable | None = None, channels_last: bool | None = None):
        imgs = _to_float_image(images)
        m = torch.as_tensor(np.asarray(masks) if not isinstance(masks, Tensor) else masks)
        if imgs.ndim == 3:
            imgs = imgs[:, None]
        elif imgs.ndim == 4:
            if channels_last is None:
                channels_last = imgs.shape[-1] in (1, 3, 4) and imgs.shape[1] not in (1, 3, 4)
            if channels_last:
                imgs = imgs.permute(0, 3, 1, 2)
        else:
            raise InputError(f"images must be [N,H,W], [N,C,H,W] or [N,H,W,C]; got shape {tuple(imgs.shape)}",
                             fix="stack your images into one array with a leading sample dimension")
        if m.ndim == 4 and m.shape[-1] == 1 and m.shape[1] != 1:
            m = m[..., 0]
        if m.ndim == 4 and m.shape[1] == 1:
            m = m[:, 0]
        if m.ndim != 3:
            raise InputError(f"masks must be [N,H,W] or [N,1,H,W]; got shape {tuple(m.shape)}",
                             fix="pass one binary mask per image")
        if len(m) != len(imgs) or m.shape[-2:] != imgs.shape[-2:]:
            raise InputError(f"images {tuple(imgs.shape)} and masks {tuple(m.shape)} do not match "
                             "in number or in height/width", fix="pass one mask of the image's size per image")
        self.images = imgs.contiguous()
        self.masks = (m > 0).float()[:, None].contiguous()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        image, mask = self.images[i], self.masks[i]
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        return image, mask


# ----------------------------------------------------------------------------- reading files
_GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def _natural_key(path: Path) -> list:
    """Sort "2.png" before "10.png"."""
    return [int(s) if s.isdigit() else s.lower() for s in re.split(r"(\d+)", path.stem)]


def read_image(path: str | Path) -> np.ndarray:
    """Decode one png/tif/jpg into `[H, W]` (grey) or `[H, W, 3]` (colour), keeping its dtype.

    8- and 16-bit greyscale stay uint8 / uint16; RGBA and LA lose their alpha channel;
    palette images become RGB. Raises `DataError` naming the file when it cannot be decoded
    or is a multi-page TIFF.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            if getattr(im, "n_frames", 1) > 1:
                raise DataError(f"{path} is a multi-page image ({im.n_frames} frames); "
                                "expected one 2-D image per file",
                                fix="save each page as its own file (e.g. with Fiji: Image > Stacks > Stack to Images)")
            mode = im.mode
            if mode == "LA":
                im = im.convert("L")
            elif mode == "1":
                im = im.convert("L")
            elif mode not in _GREY_MODES and mode != "RGB":
                im = im.convert("RGB")  # RGBA, P, CMYK, YCbCr, ...
            arr = np.array(im)
    except DataError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"cannot decode image file {path}: {exc}",
                        fix="re-save it as PNG or TIFF, or remove it from the folder") from None
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def _image_size(path: Path) -> tuple[int, int, int]:
    """(height, width, channels) from the file header, without decoding the pixels."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
            return h, w, (1 if im.mode in _GREY_MODES else 3)
    except Exception as exc:  # PIL raises many types for bad headers
        raise DataError(f"cannot decode image file {path}: {exc}",
                        fix="re-save it as PNG or TIFF, or remove it from the folder") from None


def _list_images(folder: Path, role: str) -> tuple[list[Path], list[Path]]:
    """Image files in `folder` (sorted naturally) and the non-image files that were skipped."""
    if not folder.is_dir():
        raise DataError(f"{role} folder {folder} does not exist or is not a folder",
                        fix=f"pass the folder that holds the {role} files")
    files, skipped = [], []
    for p in sorted(folder.iterdir(), key=_natural_key):
        if p.name.startswith(".") or not p.is_file():
            continue
        (files if p.suffix.lower() in IMAGE_SUFFIXES else skipped).append(p)
    if not files:
        raise DataError(f"{role} folder {folder} has no image files (looked for {', '.join(IMAGE_SUFFIXES)})",
                        fix=f"point at the folder with the {role} files")
    return files, skipped


def _convert_channels(arr: np.ndarray, channels: int) -> np.ndarray:
    """`[H, W]` or `[H, W, 3]` → `[H, W, channels]` (grey is repeated; colour → luminance)."""
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.shape[-1] == channels:
        return arr
    if channels == 3:
        return np.repeat(arr, 3, axis=-1)
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float64)  # ITU-R 601 luma
    return (arr.astype(np.float64) @ weights)[..., None]


class SegmentationFolder(Dataset):
    """Image/mask pairs read from two folders, matched by file stem.

    Args:
        images: folder of images (png, tif/tiff, jpg/jpeg; other files are skipped and listed in
            `self.skipped`).
        masks: folder of masks; mask `<stem><mask_suffix>.<any image suffix>` belongs to image
            `<stem>.*`. Extra masks without an image are ignored. May be the images folder
            itself when `mask_suffix` is set (cell01.png next to cell01_mask.png).
        transform: paired transform, e.g. `default_augmentation(crop=256)`.
        channels: 1 or 3 to convert every image; None keeps the files' channel count and raises a
            `DataError` if the folder mixes grey and colour images.
        normalize: "max" divides each image by its own maximum (as the course did; robust for
            12-bit data stored as 16-bit), "dtype" divides by the dtype's maximum (255 or 65535),
            "none" keeps raw values.
        mask_threshold: foreground is `mask > mask_threshold` (colour masks: any channel). None
            means 0 for lossless files and half the mask's maximum for JPEG masks (JPEG blurs edges).
        preload: decode everything now (every broken file is reported before training starts)
            and keep it in memory; False decodes on access.

    Items: `(image [C, H, W] float32, mask [1, H, W] float32 in {0, 1})`. Images may differ in
    size from pair to pair; use a `PairedRandomCrop` or batch size 1 to batch them.
    """

    def __init__(self, images: str | Path, masks: str | Path, transform: Callable | None = None,
                 channels: int | None = None, mask_suffix: str = "", normalize: str = "max",
                 mask_threshold: float | None = None, preload: bool = True):
        if channels not in (None, 1, 3):
            raise DataError(f"channels must be 1, 3 or None, got {channels!r}", fix="use channels=1 or channels=3")
        if normalize not in ("max", "dtype", "none"):
            raise DataError(f"normalize must be 'max', 'dtype' or 'none', got {normalize!r}",
                            fix="use normalize='max'")
        self.transform, self.normalize, self.mask_threshold = transform, normalize, mask_threshold
        image_files, self.skipped = _list_images(Path(images), "image")
        mask_files, skipped_masks = _list_images(Path(masks), "mask")
        if Path(images).resolve() == Path(masks).resolve():
            if not mask_suffix:
                raise DataError(f"images and masks are the same folder {images} but no mask suffix is set",
                                fix="set mask_suffix (e.g. '_mask' for cell01.png + cell01_mask.png) "
                                    "or keep masks in their own folder")
            image_files = [p for p in image_files if not p.stem.endswith(mask_suffix)]
        else:
            self.skipped += skipped_masks
        self.pairs = self._match(image_files, mask_files, mask_suffix, Path(masks))
        self.sizes, self.channels = self._check_headers(channels)
        self._cache: dict[int, tuple[Tensor, Tensor]] = {}
        if preload:
            for i in range(len(self.pairs)):
                self._cache[i] = self._load(i)

    @staticmethod
    def _match(image_files: list[Path], mask_files: list[Path], suffix: str, mask_dir: Path
               ) -> list[tuple[Path, Path]]:
        by_stem: dict[str, Path] = {}
        for m in mask_files:
            if not m.stem.endswith(suffix):
                continue
            stem = m.stem[: len(m.stem) - len(suffix)] if suffix else m.stem
            if stem in by_stem:
                raise DataError(f"two masks for image stem '{stem}': {by_stem[stem]} and {m}",
                                fix="keep one mask per image")
            by_stem[stem] = m
        seen: dict[str, Path] = {}
        pairs, missing = [], []
        for img in image_files:
            if img.stem in seen:
                raise DataError(f"two images with stem '{img.stem}': {seen[img.stem]} and {img}",
                                fix="rename or remove one; images and masks are matched by name without suffix")
            seen[img.stem] = img
            if img.stem in by_stem:
                pairs.append((img, by_stem[img.stem]))
            else:
                missing.append(img)
        if missing:
            names = ", ".join(str(p) for p in missing[:5])
            if len(missing) > 5:
                names += f" (and {len(missing) - 5} more)"
            example = f"{missing[0].stem}{suffix}{missing[0].suffix}"
            raise DataError(f"{len(missing)} image(s) have no mask in {mask_dir}: {names}",
                            fix=f"add a mask with the same name (e.g. {mask_dir / example}), remove the image, "
                                "or set the mask suffix (mask_suffix='_mask' matches cell01_mask.png)")
        return pairs

    def _check_headers(self, channels: int | None) -> tuple[list[tuple[int, int]], int]:
        sizes, found = [], {}
        for img, mask in self.pairs:
            h, w, c = _image_size(img)
            mh, mw, _ = _image_size(mask)
            if (h, w) != (mh, mw):
                raise DataError(f"image {img} is {h}×{w} (H×W) but its mask {mask} is {mh}×{mw}",
                                fix="give each image a mask of exactly its size")
            sizes.append((h, w))
            found.setdefault(c, img)
        if channels is None:
            if len(found) > 1:
                raise DataError(f"the image folder mixes greyscale ({found[1]}) and colour ({found[3]}) images",
                                fix="choose one: channels=1 (convert colour to grey) or channels=3 "
                                    "(repeat grey), e.g. --set data.channels=1")
            channels = next(iter(found))
        return sizes, channels

    def _load(self, i: int) -> tuple[Tensor, Tensor]:
        img_path, mask_path = self.pairs[i]
        raw = read_image(img_path)
        img = _convert_channels(raw, self.channels).astype(np.float32)
        if self.normalize == "max":
            top = float(img.max())
            img = img / top if top > 0 else img
        elif self.normalize == "dtype" and np.issubdtype(raw.dtype, np.integer):
            img = img / float(np.iinfo(raw.dtype).max)
        m = read_image(mask_path)
        if m.ndim == 3:
            m = m.max(axis=-1)
        threshold = self.mask_threshold
        if threshold is None:
            threshold = float(m.max()) / 2 if mask_path.suffix.lower() in (".jpg", ".jpeg") else 0.0
        mask = (m > threshold).astype(np.float32)
        return torch.from_numpy(img.transpose(2, 0, 1).copy()), torch.from_numpy(mask[None])

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        image, mask = self._cache[i] if i in self._cache else self._load(i)
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        return image, mask
