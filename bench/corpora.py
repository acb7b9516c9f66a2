"""Real code nobody on the team wrote, for the benchmarks: the running interpreter's
standard library and the TypeScript sources of an npm package (fetched once with
`npm pack` into a cache folder)."""

from __future__ import annotations

import os
import subprocess
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
