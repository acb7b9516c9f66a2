"""Real code nobody on the team wrote, for the benchmarks: the running interpreter's
standard library, the TypeScript sources of an npm package (fetched once with
`npm pack` into a cache folder) and source distributions from PyPI (`pip download`)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

NPM_PACKAGE = "rxjs@7.8.1"  # ships its hand-written TypeScript under package/src
STDLIB_EXCLUDE = frozenset({"test", "tests", "idlelib", "lib2to3", "turtledemo"})


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "edgewise-bench"


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def npm_sources(spec: str = NPM_PACKAGE) -> Path:
    """The package's ``src`` folder, unpacked from its npm tarball (cached)."""
    folder = cache_root() / "npm" / spec.replace("/", "_").replace("@", "-")
    src = folder / "package" / "src"
    if src.is_dir():
        return src
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(f"npm pack {spec} failed: {done.stderr.strip()}")
    tarball = folder / done.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as archive:
        archive.extractall(folder, filter="data")
    if not src.is_dir():
        raise SystemExit(f"{spec} has no src folder")
    return src


def pypi_sources(name: str, version: str) -> Path:
    """The unpacked source distribution of ``name==version`` from PyPI (fetched once with
    `pip download --no-binary :all:` into a cache folder): a whole package tree."""
    folder = cache_root() / "pypi"
    unpacked = folder / f"{name}-{version}"
    if unpacked.is_dir():
        return unpacked
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / f"{name}-{version}.tar.gz"
    if not archive.exists():
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                f"{name}=={version}",
                "--no-binary",
                ":all:",
                "--no-deps",
                "--quiet",
                "-d",
                str(folder),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not archive.exists():
            raise SystemExit(f"pip download {name}=={version} failed: {done.stderr.strip()}")
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    if not unpacked.is_dir():
        raise SystemExit(f"{archive.name} did not unpack to {unpacked.name}")
    return unpacked
