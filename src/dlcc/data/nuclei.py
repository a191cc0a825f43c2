"""2018 Data Science Bowl nuclei: images with one mask PNG per nucleus."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from dlcc.data.cache import cached_arrays
from dlcc.data.images import decode_image
from dlcc.data.resolve import ensure
from dlcc.errors import DataError

_FIX = "replace it with a good copy (`dlcc data verify dsb2018-nuclei` names bad files)"


def load_nuclei(data_dir=None) -> list[dict]:
    """The 83 DSB 2018 training images with their masks, sorted by id.

    Returns a list of dicts:
        "id":        str, the image id (a 64-hex name)
        "image":     uint8 [H,W,3] RGB (the PNGs' constant alpha channel is dropped)
        "mask":      uint8 [H,W], 1 where any nucleus is, else 0 (union of instance masks)
        "instances": int32 [H,W], 0 = background, k = k-th nucleus (masks in file-name order;
                     the 2 images with overlapping masks give a shared pixel to the first mask)
    Sizes vary from 256x256 to 1040x1388.
    """
    files = ensure("dsb2018-nuclei", data_dir)
    groups: dict[str, list[str]] = defaultdict(list)
    for rel in files.paths:
        groups[rel.split("/", 1)[0]].append(rel)
    ids = sorted(groups)

    def build():
        arrays = {}
        for image_id in ids:
            image, instances = _decode_one(files.paths, image_id, sorted(groups[image_id]))
            arrays[f"{image_id}_image"] = image
            # uint16 halves the cache entry; int32 is restored on load
            arrays[f"{image_id}_instances"] = instances.astype(np.uint16 if instances.max() < 65536 else np.int32)
        return arrays

    a = cached_arrays("dsb2018-nuclei", files.digests, build, version=2)
    items = []
    for i in ids:
        instances = a[f"{i}_instances"].astype(np.int32)
        items.append({"id": i, "image": a[f"{i}_image"], "mask": (instances > 0).astype(np.uint8),
                      "instances": instances})
    return items


def _decode_one(paths, image_id: str, rels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    image_rel = f"{image_id}/images/{image_id}.png"
    if image_rel not in rels:
        raise DataError(f"nuclei image {image_id} has no file images/{image_id}.png", fix=_FIX)
    image = decode_image(paths[image_rel], str(paths[image_rel]), mode="RGB")
    instances = np.zeros(image.shape[:2], np.int32)
    masks = [r for r in rels if r.startswith(f"{image_id}/masks/")]
    for k, rel in enumerate(masks, 1):
        mask = decode_image(paths[rel], str(paths[rel]), mode="L")
        if mask.shape != instances.shape:
            raise DataError(f"mask {paths[rel]} is {mask.shape}, its image is {instances.shape}",
                            fix=_FIX)
        instances[(mask > 127) & (instances == 0)] = k
    return image, instances
