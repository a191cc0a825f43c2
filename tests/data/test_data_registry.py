"""The registry: names, aliases, manifests, and checksums against the shared SHA256SUMS."""

from __future__ import annotations

import pytest

from dlcc.data.manifest import build_manifest, parse_manifest, read_manifest
from dlcc.data.registry import get_dataset, names, registry
from dlcc.errors import DataError

REAL = ["mnist", "cifar10", "isbi2012-em", "dsb2018-nuclei", "mitbih", "ecg-scipy", "tinyshakespeare"]


def test_required_datasets_are_registered():
    assert set(REAL + ["digits", "mnist1d", "shapes", "synthetic-ecg"]) <= set(names())
    for name in REAL:
        spec = get_dataset(name)
        assert spec.kind == "files" and spec.folder and spec.license and spec.source
        assert any(v.url_templates for v in spec.variants) or name == "cifar10"
        for variant in spec.variants:
            for f in variant.files:
                assert len(f.sha256) == 64 and f.size > 0


def test_aliases_and_folder_names_resolve():
    assert get_dataset("isbi2012_em").name == "isbi2012-em"
    assert get_dataset("DSB2018_NUCLEI").name == "dsb2018-nuclei"
    assert get_dataset("nuclei").name == "dsb2018-nuclei"
    assert get_dataset("ecg_scipy").name == "ecg-scipy"


def test_unknown_name_suggests_close_names():
    with pytest.raises(DataError) as err:
        get_dataset("mnsit")
    assert "unknown dataset 'mnsit'" in err.value.message
    assert "mnist" in err.value.message and "dlcc data list" in err.value.fix
    with pytest.raises(DataError) as err:
        get_dataset("zzzz-nothing")
    assert "did you mean" not in err.value.message


def test_cifar_tarball_is_the_official_one():
    tarball = get_dataset("cifar10").variant("python").files[0]
    assert tarball.sha256 == "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
    assert tarball.size == 170_498_071
    assert get_dataset("cifar10").variant("python").urls(tarball) == [
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]


def test_manifest_counts():
    assert len(read_manifest("dsb2018_nuclei")) == 3784
    assert len(read_manifest("isbi2012_em")) == 90
    assert len(read_manifest("mitbih")) == 48


def test_manifest_parse_rejects_bad_lines():
    good = "# comment\n" + "a" * 64 + "  12  x/y.png\n"
    assert parse_manifest(good) == [("a" * 64, 12, "x/y.png")]
    with pytest.raises(ValueError, match="line 1"):
        parse_manifest("abc  12  x.png")


@pytest.mark.data
def test_registry_matches_shared_sha256sums(shared_data):
    """Every data file of the shared folder is registered with the checksum SHA256SUMS gives."""
    sums = {}
    for line in (shared_data / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split(None, 1)
        rel = rel.strip().removeprefix("./")
        if "/" in rel and not rel.endswith("SOURCE.md"):
            sums[rel] = digest
    registered = {}
    for spec in registry().values():
        for variant in spec.variants:
            for f in variant.files:
                registered[f"{spec.folder}/{f.relpath}"] = f
    missing = sorted(set(sums) - set(registered))
    assert not missing, f"shared files not in the registry: {missing[:5]}"
    for rel, digest in sums.items():
        assert registered[rel].accepts(digest), rel
        assert (shared_data / rel).stat().st_size in registered[rel].good_sizes(), rel


@pytest.mark.data
def test_build_manifest_reproduces_packaged_one(shared_data):
    rows = parse_manifest(build_manifest(shared_data / "isbi2012_em"))
    assert rows == read_manifest("isbi2012_em")
