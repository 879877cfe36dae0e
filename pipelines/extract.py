"""The extract stage: Calendly → `calendly_raw` in the warehouse, through dlt and parquet files."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt

from .calendly import calendly_source
from .config import Settings
from .progress import Progress

PIPELINE_NAME = "calendly"
RAW_DATASET = "calendly_raw"


def calendly_pipeline(warehouse_path: Path) -> dlt.Pipeline:
    """dlt keeps its working files beside the warehouse, so a warehouse moved or used by a test
    carries its own pending packages; the cursors themselves live in the warehouse."""
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(warehouse_path.parent / ".dlt" / warehouse_path.stem),
        destination=dlt.destinations.duckdb(str(warehouse_path)),
        dataset_name=RAW_DATASET,
    )


@dataclass
class ExtractSummary:
    seconds: float
    counts: dict[str, int]
    rows_loaded: dict[str, int] = field(default_factory=dict)
    resumed_pending: bool = False

    def line(self) -> str:
        loaded = sum(self.rows_loaded.values())
        return (f"extract: done in {self.seconds:.1f}s – {self.counts.get('events_listed', 0):,} events listed, "
                f"{self.counts.get('invitee_reads', 0):,} invitee reads ({self.counts.get('events_skipped', 0):,} "
                f"events unchanged), {self.counts.get('requests', 0):,} API requests, {loaded:,} rows loaded")


def _drop_committed_extracts(pipeline: dlt.Pipeline) -> None:
    """Finish a commit that a `kill -9` interrupted inside dlt's normalize step.

    dlt commits a normalized package by renaming it into `load/normalized`, then deletes the
    extracted copy; killed between the two, both exist under one load id, and every later run
    re-normalizes the extracted copy and fails renaming onto the committed one (dlt-hub/dlt#4446, open
    in 1.31). The normalized package is the complete one, so the stale extracted copy is deleted –
    the very step dlt was about to take. Uses dlt's package storage, not paths of our own."""
    committed = set(pipeline.list_normalized_load_packages())
    stale = [load_id for load_id in pipeline.list_extracted_load_packages() if load_id in committed]
    if stale:
        extracted = pipeline._get_normalize_storage().extracted_packages  # no public API for this
        for load_id in stale:
            extracted.delete_package(load_id)


def finish_interrupted_load(pipeline: dlt.Pipeline, progress: Progress) -> bool:
    """Load what a crashed run extracted and normalized (cheaper than extracting it again).
    True if there was such a load."""
    _drop_committed_extracts(pipeline)
    if not pipeline.has_pending_data:
        return False
    progress.say("extract: finishing the load of an interrupted run first")
    pipeline.run()  # loads pending packages and returns without extracting
    return True


def run_extract(settings: Settings, progress: Progress | None = None, **source_options: Any) -> ExtractSummary:
    """Finish a load that a crash left behind, then extract, normalize and load a fresh run."""
    progress = progress or Progress("extract", stream=None)
    started = time.monotonic()
    token = settings.require_calendly_token()
    pipeline = calendly_pipeline(settings.warehouse_path)
    resumed = finish_interrupted_load(pipeline, progress)
    source = calendly_source(access_token=token, api_url=settings.calendly_api_url,
                             progress=progress, **source_options)
    pipeline.run(source, loader_file_format="parquet")
    rows = dict(pipeline.last_trace.last_normalize_info.row_counts)
    return ExtractSummary(
        seconds=time.monotonic() - started,
        counts=dict(progress.counts),
        rows_loaded={t: n for t, n in rows.items() if not t.startswith("_dlt")},
        resumed_pending=resumed,
    )
