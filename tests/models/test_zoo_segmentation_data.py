"""dlcc.data.segmentation: padding, paired augmentation, tiling/stitching, array and folder datasets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dlcc.data.segmentation import (PairedCompose, PairedRandomCrop, PairedRandomFlip, PairedRandomRot90,
                                    SegmentationArrays, SegmentationFolder, default_augmentation, pad_to_multiple,
                                    pad_to_size, predict_tiled, read_image, stitch_tiles, tile_image, tile_starts,
                                    unpad)
from dlcc.errors import DataError, InputError


# ------------------------------------------------------------------------------------ padding
@pytest.mark.parametrize("h,w,m", [(37, 50, 16), (32, 32, 8), (5, 3, 8), (1, 1, 4)])
def test_pad_to_multiple_roundtrip(h, w, m):
    x = torch.randn(2, 3, h, w)
    y, pads = pad_to_multiple(x, m)
    assert y.shape[-2] % m == 0 and y.shape[-1] % m == 0
    assert y.shape[-2] - h < m and y.shape[-1] - w < m
    assert torch.equal(unpad(y, pads), x)


def test_pad_reflects_and_handles_integer_masks():
    x = torch.arange(6.0).view(1, 1, 2, 3)
    y, pads = pad_to_multiple(x, 4)
    assert pads == (0, 1, 1, 1)
    assert y[0, 0, 0].tolist() == [3.0, 4.0, 5.0, 4.0]  # row above = reflection of row 1
    m = torch.ones(1, 3, 3, dtype=torch.uint8)
    mp, _ = pad_to_size(m, (5, 5), mode="constant")
    assert mp.dtype == torch.uint8 and mp.sum() == 9 and mp.shape == (1, 5, 5)


# -------------------------------------------------------------------------- paired transforms
def pair(h=6, w=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(3, h, w, generator=g)
    return image, (image[:1] > 0).float()  # the mask is a function of the pixels


@pytest.mark.parametrize("t", [PairedRandomFlip(1.0, -1), PairedRandomFlip(1.0, -2), PairedRandomRot90(),
                               PairedRandomCrop(4), default_augmentation(crop=(5, 4))])
def test_paired_transforms_keep_mask_aligned(t):
    torch.manual_seed(0)
    for seed in range(10):
        image, mask = pair(seed=seed)
        ti, tm = t(image, mask)
        assert torch.equal(tm, (ti[:1] > 0).float())
        assert ti.shape[-2:] == tm.shape[-2:]


def test_flip_probability_and_exact_result():
    image, mask = pair()
    ti, tm = PairedRandomFlip(1.0, -1)(image, mask)
    assert torch.equal(ti, image.flip(-1)) and torch.equal(tm, mask.flip(-1))
    ti, tm = PairedRandomFlip(0.0)(image, mask)
    assert ti is image and tm is mask


def test_rot90_visits_all_four_rotations():
    torch.manual_seed(0)
    image, mask = pair(4, 4)
    seen = {tuple(PairedRandomRot90()(image, mask)[0][0, 0].tolist()) for _ in range(60)}
    assert len(seen) == 4


def test_random_crop_sizes_and_padding():
    torch.manual_seed(0)
    image, mask = pair(6, 9)
    ci, cm = PairedRandomCrop((4, 5))(image, mask)
    assert ci.shape == (3, 4, 5) and cm.shape == (1, 4, 5)
    ci, cm = PairedRandomCrop(12)(image, mask)  # larger than the image: padded (mask with zeros)
    assert ci.shape == (3, 12, 12) and cm.sum() == mask.sum()
    with pytest.raises(InputError, match="cannot crop 12×12"):
        PairedRandomCrop(12, pad_if_needed=False)(image, mask)


def test_transforms_reject_mismatched_pairs():
    with pytest.raises(InputError, match="differ in height/width"):
        PairedCompose([PairedRandomFlip()])(torch.zeros(3, 4, 4), torch.zeros(1, 4, 5))


# ------------------------------------------------------------------------------------- tiling
@pytest.mark.parametrize("length,tile,overlap", [(10, 4, 1), (512, 256, 32), (7, 7, 0), (100, 33, 10)])
def test_tile_starts_cover_everything_with_full_tiles(length, tile, overlap):
    starts = tile_starts(length, tile, overlap)
    covered = np.zeros(length, bool)
    for s in starts:
        assert 0 <= s <= length - tile
        covered[s:s + tile] = True
    assert covered.all()
    assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:]))


def test_tile_then_stitch_is_identity():
    x = torch.randn(2, 37, 50)
    tiles, pos = tile_image(x, 16, overlap=5)
    assert tiles.shape[1:] == (2, 16, 16)
    assert torch.allclose(stitch_tiles(tiles, pos, (37, 50)), x)


def test_stitch_averages_overlaps():
    tiles = torch.stack([torch.full((1, 2, 3), 1.0), torch.full((1, 2, 3), 3.0)])
    out = stitch_tiles(tiles, [(0, 0), (0, 2)], (2, 5))
    assert out[0, 0].tolist() == [1.0, 1.0, 2.0, 3.0, 3.0]


def test_predict_tiled_matches_whole_image_for_pointwise_model():
    x = torch.randn(1, 70, 45)
    calls = []

    def model(batch):
        calls.append(batch.shape)
        return torch.sigmoid(batch * 2)

    out = predict_tiled(model, x, tile=32, overlap=8, batch_size=3)
    assert out.shape == (1, 70, 45)
    assert torch.allclose(out, torch.sigmoid(x * 2), atol=1e-6)
    assert all(c[0] <= 3 and c[-2:] == (32, 32) for c in calls)


def test_predict_tiled_small_image_is_padded_and_cropped():
    x = torch.randn(1, 10, 12)
    out = predict_tiled(lambda b: b + 1, x, tile=16, overlap=4)
    assert torch.allclose(out, x + 1)


def test_tiling_bad_arguments():
    with pytest.raises(InputError, match="overlap"):
        tile_starts(10, 4, 4)
    with pytest.raises(InputError, match="larger than the image"):
        tile_starts(3, 4, 0)


# ------------------------------------------------------------------------------ array dataset
def test_arrays_dataset_layouts_and_scaling():
    imgs = np.random.default_rng(0).integers(0, 256, (4, 8, 10, 3), dtype=np.uint8)  # NHWC uint8
    masks = np.zeros((4, 8, 10), np.uint8)
    masks[:, 2:5, 3:6] = 255
    ds = SegmentationArrays(imgs, masks)
    image, mask = ds[1]
    assert image.shape == (3, 8, 10) and image.dtype == torch.float32
    assert torch.allclose(image, torch.from_numpy(imgs[1]).permute(2, 0, 1).float() / 255)
    assert mask.shape == (1, 8, 10) and set(mask.unique().tolist()) == {0.0, 1.0} and mask.sum() == 9
    grey = SegmentationArrays(np.random.rand(2, 8, 8).astype(np.float32), np.ones((2, 1, 8, 8)))
    assert grey[0][0].shape == (1, 8, 8) and len(grey) == 2
    nchw = SegmentationArrays(torch.rand(2, 3, 8, 8), torch.ones(2, 8, 8), transform=PairedRandomFlip(1.0))
    assert torch.equal(nchw[0][0], nchw.images[0].flip(-1))


@pytest.mark.parametrize("images,masks,text", [
    (np.zeros((2, 8, 8)), np.zeros((3, 8, 8)), "do not match"),
    (np.zeros((2, 8, 8)), np.zeros((2, 8, 9)), "do not match"),
    (np.zeros((8, 8)), np.zeros((8, 8)), "images must be"),
    (np.zeros((2, 8, 8)), np.zeros((2, 2, 8, 8)), "masks must be"),
])
def test_arrays_dataset_rejects_bad_shapes(images, masks, text):
    with pytest.raises(InputError, match=text):
        SegmentationArrays(images, masks)


# ----------------------------------------------------------------------------- folder dataset
def save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)  # uint16 [H, W] becomes a 16-bit greyscale PNG
    return path


def make_folder(tmp_path, n=3, size=(12, 16), suffix=".png", mask_suffix=""):
    rng = np.random.default_rng(0)
    for i in range(n):
        img = rng.integers(1, 255, size, dtype=np.uint8)
        mask = np.zeros(size, np.uint8)
        mask[: size[0] // 2] = 255
        save(tmp_path / "images" / f"{i}{suffix}", img)
        save(tmp_path / "masks" / f"{i}{mask_suffix}.png", mask)
    return tmp_path / "images", tmp_path / "masks"


def test_folder_dataset_basic(tmp_path):
    images, masks = make_folder(tmp_path, n=12)
    (images / "notes.txt").write_text("not an image")
    (images / ".DS_Store").write_bytes(b"\0")
    ds = SegmentationFolder(images, masks)
    assert len(ds) == 12
    assert [p[0].name for p in ds.pairs][:3] == ["0.png", "1.png", "2.png"]
    assert ds.pairs[10][0].name == "10.png"  # natural order: 2 before 10
    assert [p.name for p in ds.skipped] == ["notes.txt"]
    image, mask = ds[0]
    assert image.shape == (1, 12, 16) and image.dtype == torch.float32 and image.max() == 1.0
    assert mask.shape == (1, 12, 16) and mask[0, :6].all() and not mask[0, 6:].any()


def test_folder_dataset_mask_suffix_and_tif_jpg(tmp_path):
    images, masks = make_folder(tmp_path, n=2, suffix=".tif", mask_suffix="_mask")
    ds = SegmentationFolder(images, masks, mask_suffix="_mask", normalize="dtype")
    raw = np.array(Image.open(images / "0.tif"))
    assert torch.allclose(ds[0][0][0], torch.from_numpy(raw).float() / 255)
    jpg = save(tmp_path / "j" / "images" / "a.jpg", np.full((8, 8, 3), 120, np.uint8))
    m = np.zeros((8, 8), np.uint8)
    m[:, :4] = 255
    save(tmp_path / "j" / "masks" / "a.jpg", m)
    ds = SegmentationFolder(jpg.parent, tmp_path / "j" / "masks")
    assert ds.channels == 3 and ds[0][0].shape == (3, 8, 8)
    assert ds[0][1][0, :, :3].all() and not ds[0][1][0, :, 5:].any()  # JPEG mask thresholded at half max


def test_folder_dataset_16bit_rgba_and_palette(tmp_path):
    img16 = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 64)  # 12-bit data in a 16-bit file
    save(tmp_path / "i" / "a.png", img16)
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 255
    save(tmp_path / "m" / "a.png", rgba)  # RGBA mask: any colour channel counts
    assert read_image(tmp_path / "i" / "a.png").dtype == np.uint16
    ds = SegmentationFolder(tmp_path / "i", tmp_path / "m")
    image, mask = ds[0]
    assert image.max() == 1.0 and abs(float(image[0, 0, 1]) - 64 / 4032) < 1e-6  # divided by its own max
    assert mask.all()
    pal = Image.fromarray(np.full((8, 8, 3), 50, np.uint8)).convert("P")
    pal.save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").shape == (8, 8, 3)


def test_folder_dataset_images_and_masks_in_one_folder(tmp_path):
    images, masks = make_folder(tmp_path, n=2, mask_suffix="_mask")
    for m in masks.iterdir():
        m.rename(images / m.name)
    ds = SegmentationFolder(images, images, mask_suffix="_mask")
    assert [(i.name, m.name) for i, m in ds.pairs] == [("0.png", "0_mask.png"), ("1.png", "1_mask.png")]
    with pytest.raises(DataError, match="same folder"):
        SegmentationFolder(images, images)


def test_folder_dataset_missing_mask_names_the_file(tmp_path):
    images, masks = make_folder(tmp_path, n=3)
    (masks / "1.png").unlink()
    with pytest.raises(DataError, match="no mask") as err:
        SegmentationFolder(images, masks)
    assert "1.png" in err.value.message and "mask_suffix" in err.value.fix


def test_folder_dataset_size_mismatch_names_both_files(tmp_path):
    images, masks = make_folder(tmp_path, n=2)
    save(masks / "1.png", np.zeros((12, 15), np.uint8))
    with pytest.raises(DataError, match="12×16") as err:
        SegmentationFolder(images, masks)
    assert str(images / "1.png") in err.value.message and str(masks / "1.png") in err.value.message


def test_folder_dataset_undecodable_file(tmp_path):
    images, masks = make_folder(tmp_path, n=2)
    (images / "0.png").write_bytes(b"this is not a png")
    with pytest.raises(DataError, match="cannot decode image file") as err:
        SegmentationFolder(images, masks)
    assert "0.png" in err.value.message


def test_folder_dataset_truncated_file_lazy(tmp_path):
    images, masks = make_folder(tmp_path, n=2, size=(64, 64))
    data = (images / "1.png").read_bytes()
    (images / "1.png").write_bytes(data[: len(data) // 2])
    ds = SegmentationFolder(images, masks, preload=False)  # header is fine, pixels are not
    ds[0]
    with pytest.raises(DataError, match="1.png"):
        ds[1]
    with pytest.raises(DataError, match="1.png"):
        SegmentationFolder(images, masks)  # preload reports it up front


def test_folder_dataset_mixed_channels(tmp_path):
    images, masks = make_folder(tmp_path, n=2)
    save(images / "1.png", np.full((12, 16, 3), 100, np.uint8))
    with pytest.raises(DataError, match="mixes greyscale") as err:
        SegmentationFolder(images, masks)
    assert "channels=1" in err.value.fix
    assert SegmentationFolder(images, masks, channels=1)[1][0].shape == (1, 12, 16)
    assert SegmentationFolder(images, masks, channels=3)[0][0].shape == (3, 12, 16)


def test_folder_dataset_empty_and_missing_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(DataError, match="has no image files"):
        SegmentationFolder(tmp_path / "empty", tmp_path / "empty")
    with pytest.raises(DataError, match="does not exist"):
        SegmentationFolder(tmp_path / "nope", tmp_path / "empty")


def test_folder_dataset_multipage_tiff(tmp_path):
    images, masks = make_folder(tmp_path, n=1)
    frames = [Image.fromarray(np.zeros((12, 16), np.uint8)) for _ in range(3)]
    frames[0].save(images / "0.tif", save_all=True, append_images=frames[1:])
    (images / "0.png").unlink()
    with pytest.raises(DataError, match="multi-page"):
        SegmentationFolder(images, masks)


def test_folder_dataset_files_untouched_and_batchable(tmp_path):
    images, masks = make_folder(tmp_path, n=3, size=(20, 24))
    save(images / "2.png", np.full((30, 18), 9, np.uint8))  # a different size is fine per pair...
    save(masks / "2.png", np.zeros((30, 18), np.uint8))
    before = {p: p.read_bytes() for p in [*images.iterdir(), *masks.iterdir()]}
    ds = SegmentationFolder(images, masks, transform=PairedRandomCrop(16))  # ...a crop makes batches
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=3)))
    assert batch[0].shape == (3, 1, 16, 16) and batch[1].shape == (3, 1, 16, 16)
    assert before == {p: p.read_bytes() for p in before}


@pytest.mark.data
def test_isbi_folder_real_data(shared_data):
    root = shared_data / "isbi2012_em" / "train"
    ds = SegmentationFolder(root / "image", root / "label", preload=False)
    assert len(ds) == 30 and ds.pairs[2][0].name == "2.png" and ds.channels == 1
    image, mask = ds[0]
    assert image.shape == mask.shape == (1, 512, 512)
    assert 0.70 < float(mask.mean()) < 0.85  # cell interior (255) ≈ 78 % of pixels
