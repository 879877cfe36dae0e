"""dlt's local working folder (`data/.dlt/<warehouse>/calendly`): its load packages hold copies of rows.

Before the erasure the pending packages are loaded (what a crashed run left: loading them first means
no package re-adds the person afterwards); after it, the completed ones are deleted whole – dlt keeps
them as a record only, and never reads them again. The schema and state files hold no rows.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Iterable

from ..config import Settings
from ..extract import calendly_pipeline, finish_interrupted_load
from ..progress import Progress
from .address import found as holds


def finish_pending(settings: Settings, progress: Progress) -> bool:
    """Load the packages a crashed run extracted or normalized; True if there were any."""
    return finish_interrupted_load(calendly_pipeline(settings), progress)


def remove_loaded(settings: Settings) -> int:
    """Delete every completed load package (and dlt's pickled trace of the last run); how many packages."""
    pipeline = calendly_pipeline(settings)
    storage = pipeline._get_load_storage()  # no public API to delete a loaded package
    loaded = list(pipeline.list_completed_load_packages())
    for load_id in loaded:
        storage.delete_loaded_package(load_id)
    (Path(pipeline.working_dir) / "trace.pickle").unlink(missing_ok=True)
    return len(loaded)


def _text(path: Path) -> str:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return "\n".join(str(v) for row in pq.read_table(path).to_pylist() for v in row.values())
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def files_mentioning(settings: Settings, needles: Iterable[str]) -> list[Path]:
    """The files of dlt's working folder for this warehouse that hold one of `needles` (address.py's rule)."""
    needles = list(needles)
    folder = Path(calendly_pipeline(settings).working_dir)
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            text = _text(path)
        except Exception:  # noqa: BLE001 – unreadable as text: searched as bytes
            text = path.read_bytes().decode("latin-1")
        if holds(text, needles):
            found.append(path)
    return found
