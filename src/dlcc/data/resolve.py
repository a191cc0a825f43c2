"""Find a dataset's files in lookup order, verify them, download what is missing.

Lookup order (see `locations.py`): `--data-dir` / `data_dir=`, each `DLCC_DATA` directory,
the cache, then download into the cache. Each file is looked up on its own as
`<dir>/<folder>/<relpath>` (or `<dir>/<relpath>` when `--data-dir` names the dataset folder
itself). A file found in a higher-priority place is used even if a later place also has it, and
if that file is corrupt the load fails loudly: we never silently fall back, never repair, delete
or overwrite anything outside the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dlcc.data.checksum import check_file
from dlcc.data.download import download, mirror, offline, unwritable, urls_for
from dlcc.data.locations import cache_dir, explicit_dirs, search_dirs, source_dirs
from dlcc.data.registry import DatasetSpec, FileSpec, Variant, get_dataset
from dlcc.errors import DataError


@dataclass
class Resolved:
    """The verified files of one dataset variant: relpath -> path and relpath -> sha256."""

    dataset: DatasetSpec
    variant: Variant
    paths: dict[str, Path] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    downloaded: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        """The dataset folder holding the first file (all files, in the usual case)."""
        relpath, path = next(iter(self.paths.items()))
        return path.parents[len(Path(relpath).parts) - 1]


def find_file(folder: str, relpath: str, data_dir=None) -> Path | None:
    """The first existing `<dir>/<folder>/<relpath>` in lookup order, or None."""
    for d in search_dirs(data_dir):
        candidates = [d / folder / relpath]
        if d.name == folder:  # --data-dir pointing at the dataset folder itself
            candidates.append(d / relpath)
        for path in candidates:
            if path.is_file():
                return path
    return None


def check_explicit_dir(data_dir=None) -> None:
    for d in explicit_dirs(data_dir):
        if not d.is_dir():
            raise DataError(f"--data-dir {d} is not a directory",
                            fix="pass an existing folder that holds dataset folders such as mnist/")


def locate(spec: DatasetSpec, variant: Variant, files=None, data_dir=None) -> dict[str, Path | None]:
    """relpath -> found path (None when missing), no hashing."""
    wanted = variant.files if files is None else files
    return {f.relpath: find_file(spec.folder, f.relpath, data_dir) for f in wanted}


def choose_variant(spec: DatasetSpec, data_dir=None) -> Variant:
    """First variant complete on disk; else the first one that can be downloaded."""
    for variant in spec.variants:
        if all(p is not None for p in locate(spec, variant, data_dir=data_dir).values()):
            return variant
    for variant in spec.variants:
        if variant.url_templates or _has_mirror():
            return variant
    return spec.variants[0]


def _has_mirror() -> bool:
    return mirror() is not None


def fix_for(spec: DatasetSpec) -> str:
    """The fix line for a corrupt file of this dataset."""
    return (f"replace the file with a good copy: move it away, then run `dlcc data fetch {spec.name}` "
            f"(downloads into {cache_dir()}) or copy it again from its source")


def ensure(name: str, data_dir=None, variant: str | None = None, only: list[str] | None = None,
           allow_download: bool = True, verify: bool = True) -> Resolved:
    """Verified local paths for dataset `name`, downloading missing files into the cache.

    Args:
        variant: force a variant (e.g. "jpeg" for CIFAR-10); default: see `choose_variant`.
        only: restrict to these relpaths (e.g. the three files of one MIT-BIH record).
        allow_download: False never touches the network (also env DLCC_OFFLINE=1).
        verify: False skips hashing files found on disk (used by `dlcc data path`).
    """
    spec = get_dataset(name)
    if spec.kind != "files":
        raise DataError(f"dataset {spec.name!r} is {spec.kind}: it has no files on disk",
                        fix=f"load it in Python with {spec.loader.replace(':', '.')}()")
    check_explicit_dir(data_dir)
    chosen = spec.variant(variant) if variant else choose_variant(spec, data_dir)
    wanted = list(chosen.files)
    if only is not None:
        by_path = {f.relpath: f for f in chosen.files}
        wanted = [by_path[r] for r in only]
    found = locate(spec, chosen, wanted, data_dir)
    missing = [f for f in wanted if found[f.relpath] is None]
    resolved = Resolved(spec, chosen)
    for f in wanted:  # check local files first, so a corrupt one fails before any download
        path = found[f.relpath]
        if path is None:
            continue
        if verify:
            resolved.digests[f.relpath] = check_file(path, f, spec.name, fix_for(spec))
        resolved.paths[f.relpath] = path
    if missing:
        partial = len(missing) < len(wanted)
        _download_missing(spec, chosen, missing, allow_download, data_dir, resolved, partial)
    resolved.paths = {f.relpath: resolved.paths[f.relpath] for f in wanted}
    return resolved


def looked_in(spec: DatasetSpec, relpaths: list[str], data_dir=None) -> str:
    """Where a dataset's files were looked for, and what was odd there: a DLCC_DATA or
    --data-dir entry that does not exist, or a file's name taken by a directory."""
    labelled = ([(d, "--data-dir") for d in explicit_dirs(data_dir)] + [(d, "DLCC_DATA") for d in source_dirs()]
                + [(cache_dir(), "cache")])
    places = [f"{d} ({label}{'' if d.is_dir() else ', does not exist'})" for d, label in labelled]
    text = "looked in: " + "; ".join(places)
    clashes = [d / spec.folder / r for d, _ in labelled for r in relpaths if (d / spec.folder / r).is_dir()]
    if clashes:
        text += f"\n  {clashes[0]} is a directory, not the file" + (f" (+{len(clashes) - 1} more)" if len(clashes) > 1 else "")
    return text


def missing_error(spec: DatasetSpec, missing: list[FileSpec], data_dir=None, why: str = "",
                  partial: bool = False) -> DataError:
    state = "is incomplete" if partial else "not found"
    shown = ", ".join(f"{spec.folder}/{f.relpath}" for f in missing[:3])
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    message = (f"dataset {spec.name!r} {state}: missing {shown}{more}\n"
               f"  {looked_in(spec, [f.relpath for f in missing], data_dir)}{why}")
    if offline():
        fix = (f"unset DLCC_OFFLINE and run `dlcc data fetch {spec.name}`, or point --data-dir / "
               f"DLCC_DATA at a folder that holds {spec.folder}/")
    elif any(v.url_templates for v in spec.variants):
        fix = (f"run `dlcc data fetch {spec.name}` to download it, or point --data-dir / DLCC_DATA "
               f"at a folder that holds {spec.folder}/")
    else:
        fix = f"point --data-dir or DLCC_DATA at a folder that holds {spec.folder}/"
    return DataError(message, fix=fix)


def _download_missing(spec, variant, missing, allow_download, data_dir, resolved, partial) -> None:
    if not allow_download or offline():
        raise missing_error(spec, missing, data_dir, partial=partial)
    if not (variant.url_templates or _has_mirror()):
        raise missing_error(spec, missing, data_dir, partial=partial,
                            why=f"\n  ({variant.name} files cannot be downloaded)")
    from tqdm.auto import tqdm

    target = cache_dir() / spec.folder
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unwritable(target, exc) from exc
    total = sum(f.size for f in missing)
    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, disable=None,
              desc=f"downloading {spec.name}", leave=True) as bar:
        for f in missing:
            dest = target / f.relpath
            try:
                digest = download(urls_for(spec, variant, f), dest, f, spec.name, bar)
            except DataError as exc:
                exc.message = (f"dataset {spec.name!r}: {len(missing)} file(s) not found locally "
                               f"({looked_in(spec, [m.relpath for m in missing], data_dir)}), "
                               f"and downloading failed: {exc.message}")
                raise
            resolved.digests[f.relpath] = digest
            resolved.downloaded.append(f.relpath)
            resolved.paths[f.relpath] = dest


def where(spec: DatasetSpec, data_dir=None) -> dict:
    """Cheap status for `dlcc data list`: per variant, how many files exist and in which places."""
    places = {"data-dir": explicit_dirs(data_dir), "DLCC_DATA": source_dirs(), "cache": [cache_dir()]}
    out = {}
    for variant in spec.variants:
        found = locate(spec, variant, data_dir=data_dir)
        have = [p for p in found.values() if p is not None]
        kinds = sorted({kind for p in have for kind, dirs in places.items()
                        if any(_under(p, d) for d in dirs)})
        out[variant.name] = {"found": len(have), "total": len(found), "places": kinds,
                             "size": variant.size}
    return out


def _under(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False
