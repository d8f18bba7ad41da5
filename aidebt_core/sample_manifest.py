"""What `aidebt sample` wrote into a folder, so it never replaces what it did not write.

`aidebt sample .` in a project used to replace the project's `mlflow.db`, delete files under
`mlartifacts/` and overwrite parquet files. Now the sample records every file it writes, with
its SHA-256, in `DIR/.aidebt/sample-manifest.json`. A file is the sample's own only while it is
listed there with the same content (a symlink never is); anything else in DIR is foreign.

- Without `force`, a folder holding any foreign file is refused before anything is written.
- With `force`, foreign files are allowed next to the sample but never replaced: a foreign
  file where the sample would write (a data file, `mlflow.db`, anything under
  `mlartifacts/`) is still refused.

Before writing, the manifest lists the planned files as pending (no hash), so a generation
that dies half-way can be run again over its own partial output.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aidebt_core.errors import AidebtError

MANIFEST = Path(".aidebt") / "sample-manifest.json"
MANIFEST_FORMAT = "aidebt-sample-manifest"
PENDING = None                       # hash of a file being written
_CHUNK = 1 << 20


class SampleFolderError(AidebtError):
    """The sample's folder holds files the sample did not write (or cannot be used)."""


@dataclass(frozen=True)
class SampleManifest:
    """The files (relative POSIX paths -> SHA-256, or None while pending) the sample wrote,
    and folder prefixes it is writing into."""

    files: dict[str, str | None]
    pending_dirs: tuple[str, ...] = ()

    @classmethod
    def read(cls, folder: Path) -> SampleManifest:
        path = folder / MANIFEST
        if not path.is_file() or path.is_symlink():
            return cls({})
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return cls({})                   # unreadable: nothing counts as the sample's own
        if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT:
            return cls({})
        files = raw.get("files") or {}
        return cls({str(k): (str(v) if v else None) for k, v in files.items()},
                   tuple(str(d) for d in raw.get("pending_dirs") or ()))

    def write(self, folder: Path) -> None:
        path = folder / MANIFEST
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"format": MANIFEST_FORMAT, "version": 1,
                    "note": "Files written by `aidebt sample`; it replaces only these.",
                    "files": dict(sorted(self.files.items())),
                    "pending_dirs": list(self.pending_dirs)}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def owns(self, folder: Path, relative: str) -> bool:
        """True when `relative` is a file the sample wrote and nobody has changed since."""
        path = folder / relative
        if path.is_symlink():
            return False
        if relative not in self.files:
            return any(relative.startswith(prefix) for prefix in self.pending_dirs)
        expected = self.files[relative]
        return expected is PENDING or file_digest(path) == expected


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _files_under(folder: Path, start: Path) -> Iterator[str]:
    """Relative POSIX paths of the files (and symlinks) under `start`, without following
    symlinked folders."""
    if start.is_symlink() or start.is_file():
        yield start.relative_to(folder).as_posix()
        return
    for root, dirs, names in os.walk(start):
        dirs.sort()
        here = Path(root)
        for name in sorted(names) + [d for d in dirs if (here / d).is_symlink()]:
            yield (here / name).relative_to(folder).as_posix()


def check_folder(folder: Path, targets: Iterable[str], kept: Iterable[str],
                 force: bool) -> SampleManifest:
    """Refuse (SampleFolderError, one line) a folder the sample must not write into; return
    the manifest of what the sample wrote there before.

    `targets` are the relative paths (files or folders) the sample replaces; `kept` are files
    it only adds to and never replaces (the audit store), which are its own once listed.
    """
    if folder.exists() and not folder.is_dir():
        raise SampleFolderError(f"'{folder}' is not a folder.")
    if not folder.exists():
        return SampleManifest({})
    manifest = SampleManifest.read(folder)
    kept = set(kept)
    own_kept = {k for k in kept if k in manifest.files}
    manifest_name = MANIFEST.as_posix()

    def foreign(relative: str) -> bool:
        if relative in (manifest_name, manifest_name + ".tmp"):
            return False
        if any(relative == k or relative.startswith(f"{k}-") for k in own_kept):
            return False                     # the store and its -wal/-shm/-journal files
        return not manifest.owns(folder, relative)

    if force:
        candidates = (rel for target in targets if (folder / target).exists()
                      or (folder / target).is_symlink()
                      for rel in _files_under(folder, folder / target))
        found = next((rel for rel in candidates if foreign(rel)), None)
        if found:
            raise SampleFolderError(
                f"'{folder / found}' was not written by aidebt sample, and the sample would "
                "replace it: refused even with --force. Move it away or choose another folder.")
        return manifest
    found = next((rel for rel in _files_under(folder, folder) if foreign(rel)), None)
    if found:
        raise SampleFolderError(
            f"'{folder}' holds '{found}', which aidebt sample did not write: give an empty or "
            "new folder (--force writes next to such files, never over them).")
    return manifest


def record_files(folder: Path, relatives: Iterable[str]) -> dict[str, str]:
    """{relative path: SHA-256} for the files at these paths (folders: every file below)."""
    out = {}
    for relative in relatives:
        for rel in _files_under(folder, folder / relative):
            if (folder / rel).is_file() and not (folder / rel).is_symlink():
                out[rel] = file_digest(folder / rel)
    return out
