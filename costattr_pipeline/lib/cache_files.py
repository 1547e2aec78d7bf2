"""costattr's folder in the user's cache, and files written there whole.

What is kept there depends only on the code (bound SQL, column schemas, the report's charts and script
bundle, an empty Dagster run file): deleting the folder only costs making them again. Nothing here imports
more than the standard library, so the Dagster instance's storage (loaded by the UI's own process) can
use it too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def cache_folder() -> Path:
    """costattr's folder in the user's cache: ``$XDG_CACHE_HOME/costattr`` (``~/.cache``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "costattr"


def partial_path(path: Path) -> Path:
    """Where this process writes ``path`` before it appears whole (beside it, so moving it is atomic)."""
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")


def write_whole(path: Path, text: str) -> bool:
    """Write a cache file whole or not at all: a process reading at the same time never sees half a file.
    False when it could not be written (a cache that cannot be written only means making it again)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = partial_path(path)
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError:
        return False
    return True


def copy_new(source: Path, target: Path) -> bool:
    """Copy ``source`` to ``target`` when no file is there yet, whole: the copy appears at once, and a
    file another process created meanwhile is never replaced (False then, or when it could not be copied)."""
    partial = partial_path(target)
    try:
        shutil.copyfile(source, partial)
        os.link(partial, target)  # fails if target exists: never overwrites
    except OSError:
        return False
    finally:
        partial.unlink(missing_ok=True)
    return True
