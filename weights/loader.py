"""Find a manifest's weights file inside its installed distribution and check it.

The package's own module is never imported: only its files are read, after their
checksum matches the manifest, so a tampered or truncated file never loads.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path

from weights.manifest import WeightsFile


class WeightsError(RuntimeError):
    """A weights file is missing or does not match its manifest checksum."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@cache
def weights_path(spec: WeightsFile) -> Path:
    """The checked path of `spec`'s file; raises WeightsError if it is unusable."""
    try:
        dist = metadata.distribution(spec.package)
    except metadata.PackageNotFoundError as exc:
        raise WeightsError(f"package {spec.package!r} is not installed") from exc
    path = Path(str(dist.locate_file(spec.path)))
    if not path.is_file():
        raise WeightsError(f"{spec.path} is missing from {spec.package}")
    actual = _sha256(path)
    if actual != spec.sha256:
        raise WeightsError(f"{spec.path} has sha256 {actual}, expected {spec.sha256}")
    return path
