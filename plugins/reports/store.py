"""Exports kept in the data directory (``<data dir>/exports``): for each, a small JSON state (its
owner, list, filters, progress) beside the file it writes. Only the owner may download it; both
are removed a day after they were made. Names are random and unguessable, and checked before use
so that no name reaches outside the folder."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KEEP_SECONDS = 24 * 3600
NAME = re.compile(r"[A-Za-z0-9_-]{20,64}")

QUEUED, RUNNING, READY, FAILED = "queued", "running", "ready", "failed"


@dataclass
class Export:
    id: str
    owner_id: int
    owner_label: str
    address: str | None
    list_name: str
    params: dict[str, str]
    format: str
    language: str
    personal: bool = False  # the citizen's name and contacts are columns (set when written)
    state: str = QUEUED
    total: int = 0
    done: int = 0
    created: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def percent(self) -> int:
        if self.state == READY:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0

    @property
    def filename(self) -> str:
        stamp = time.strftime("%Y%m%d-%H%M", time.gmtime(self.created))
        return f"{self.list_name.replace(':', '-')}-{stamp}.{self.format}"


def folder(data_dir: Path) -> Path:
    path = data_dir / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_id() -> str:
    return secrets.token_urlsafe(24)


def _state_path(data_dir: Path, export_id: str) -> Path:
    if not NAME.fullmatch(export_id):
        raise KeyError(export_id)
    return folder(data_dir) / f"{export_id}.json"


def file_path(data_dir: Path, export: Export) -> Path:
    return folder(data_dir) / f"{export.id}.{export.format}"


def save(data_dir: Path, export: Export) -> None:
    """Write the state whole or not at all (a reader never sees half of it)."""
    path = _state_path(data_dir, export.id)
    part = path.with_suffix(".json.part")
    part.write_text(json.dumps(asdict(export)), encoding="utf-8")
    os.replace(part, path)


def load(data_dir: Path, export_id: str) -> Export | None:
    try:
        raw: dict[str, Any] = json.loads(_state_path(data_dir, export_id).read_text("utf-8"))
    except (KeyError, OSError, ValueError):
        return None
    return Export(**raw)


def owned_by(data_dir: Path, owner_id: int) -> list[Export]:
    """The owner's exports, newest first."""
    found = []
    for path in folder(data_dir).glob("*.json"):
        export = load(data_dir, path.stem)
        if export is not None and export.owner_id == owner_id:
            found.append(export)
    return sorted(found, key=lambda e: e.created, reverse=True)


def remove_old(data_dir: Path, keep_seconds: float = KEEP_SECONDS) -> int:
    """Remove exports (state and file, and what a stopped writer left) older than a day."""
    removed = 0
    limit = time.time() - keep_seconds
    for path in folder(data_dir).iterdir():
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += path.suffix == ".json"
    return removed
