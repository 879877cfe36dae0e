"""The extract stage: Calendly → `calendly_raw` in the warehouse, through dlt and parquet files."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any, Iterator, Optional, Sequence

import dlt
import requests

from .calendly import LANDED_RESOURCES, calendly_source
from .calendly.erased import ErasedPeople
from .calendly.landed import LandedBatch, rows_from_deliveries
from .calendly.raw_contract import create_missing_tables, type_changes
from .calendly.raw_schema import RAW_TABLES
from . import phones_backfill
from .config import Settings
from .erasure.audit import erased_people
from .progress import Progress
from .warehouse import connect
from .webhooks.landing import LandingStore, landing_path

PIPELINE_NAME = "calendly"
RAW_DATASET = "calendly_raw"
LANDED_BATCH = 50_000  # deliveries merged per run at most; the rest wait for the next one


def calendly_pipeline(settings: Settings) -> dlt.Pipeline:
    """dlt keeps its working files in the data folder, one folder per warehouse, so a warehouse moved
    or used by a test carries its own pending packages; the cursors themselves live in the warehouse.
    Loads go through parquet on both warehouses (PostgreSQL: ADBC's COPY)."""
    warehouse = settings.warehouse
    settings.ensure_data_dir()
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(settings.data_dir / ".dlt" / warehouse.working_dir_name()),
        destination=warehouse.destination(),
        dataset_name=RAW_DATASET,
    )


@dataclass
class ExtractSummary:
    seconds: float
    counts: dict[str, int]
    rows_loaded: dict[str, int] = field(default_factory=dict)
    resumed_pending: bool = False
    webhooks: dict[str, int] = field(default_factory=dict)  # deliveries merged, rejected, stale rows

    def line(self) -> str:
        loaded = sum(self.rows_loaded.values())
        hooks = ""
        if self.webhooks.get("deliveries"):
            hooks = (f", {self.webhooks['deliveries']:,} webhook deliveries merged ({self.webhooks['rejected']:,} "
                     f"set aside, {self.webhooks['stale']:,} older than the warehouse)")
        return (f"extract: done in {self.seconds:.1f}s – {self.counts.get('events_listed', 0):,} events listed, "
                f"{self.counts.get('invitee_reads', 0):,} invitee reads ({self.counts.get('events_skipped', 0):,} "
                f"events unchanged), {self.counts.get('requests', 0):,} API requests, {loaded:,} rows loaded{hooks}")


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


def stored_values(pipeline: dlt.Pipeline, table: str, column: str, uris: Sequence[str]) -> dict[str, Any]:
    """`column` by uri of the rows `table` holds now (none for a table not created yet)."""
    from dlt.destinations.exceptions import DatabaseUndefinedRelation

    found: dict[str, Any] = {}
    with pipeline.sql_client() as client:
        name = client.make_qualified_table_name(table)
        for start in range(0, len(uris), 1000):
            chunk = uris[start:start + 1000]
            marks = ", ".join(["%s"] * len(chunk))
            try:
                with client.execute_query(f"select uri, {column} from {name} where uri in ({marks})", *chunk) as cur:
                    found.update(cur.fetchall())
            except DatabaseUndefinedRelation:
                return {}
    return found


def stored_updated_at(pipeline: dlt.Pipeline, table: str, uris: Sequence[str]) -> dict[str, datetime]:
    """`updated_at` by uri of the rows `table` holds now (none for a table not created yet)."""
    return {uri: stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
            for uri, stamp in stored_values(pipeline, table, "updated_at", uris).items()
            if isinstance(stamp, datetime)}


def read_landed(pipeline: dlt.Pipeline, store: Optional[LandingStore], limit: int = LANDED_BATCH,
                erased: Optional[ErasedPeople] = None) -> LandedBatch:
    """The pending webhook deliveries as rows, less those older than what the warehouse holds, and the
    submissions to read less those whose submitter it holds (none without a store). Deliveries about
    people `forget` erased are set apart (`erased`), for `settle_landed` to scrub."""
    if store is None:
        return LandedBatch()
    return rows_from_deliveries(store.pending(limit), erased).newer_than(partial(stored_updated_at, pipeline)) \
        .submitters_known(partial(stored_values, pipeline, "routing_form_submissions", "submitter"))


def settle_landed(store: Optional[LandingStore], batch: LandedBatch, progress: Progress) -> None:
    """After the load committed: the merged deliveries are done, the unusable ones set aside with why."""
    if store is None or not batch:
        return
    store.scrub(batch.erased)
    for delivery_id, reason in batch.rejected.items():
        progress.say(f"warning: webhook delivery {delivery_id[:12]} set aside: {reason}")
    store.mark_rejected(batch.rejected)
    scrubbed = set(batch.erased)
    store.mark_processed(i for i in batch.ids if i not in batch.rejected and i not in scrubbed)
    store.redact(batch.redacted)


def complete_raw_schema(pipeline: dlt.Pipeline, load_info: Any, progress: Progress) -> None:
    """After a load: the raw tables no row reached yet are created (raw_contract.py), and a field whose
    values changed type is reported in one line (the run goes on; the values are kept beside it)."""
    create_missing_tables(pipeline)
    changed = type_changes(load_info)
    if changed:
        progress.say("warning: Calendly sent values of another type than their column's; they are kept in "
                     f"variant columns beside it: {', '.join(changed)}")


def landing_store(settings: Settings) -> Optional[LandingStore]:
    """The receiver's store, if it ever received anything (an extract does not create one)."""
    path = landing_path(settings)
    return LandingStore(path, retention_days=settings.landing_retention_days) if path.exists() else None


@dataclass
class Extraction:
    """One extract, between what comes before the load and what comes after it (`extraction`).
    The caller loads `source` into `pipeline`: the CLI with `pipeline.run`, Dagster through
    dagster-dlt, which turns the load into asset materializations."""
    pipeline: dlt.Pipeline
    source: Any  # the Calendly dlt source, with the landed webhook deliveries
    landed: LandedBatch
    resumed_pending: bool
    webhooks_only: bool
    summary: Optional[ExtractSummary] = None  # set once the extract has finished

    @property
    def needs_load(self) -> bool:
        """False when a webhooks-only run has no delivery to merge: nothing to read, nothing to load."""
        return not self.webhooks_only or bool(self.landed.tables)


@contextmanager
def extraction(settings: Settings, progress: Progress | None = None, *, webhooks_only: bool = False,
               **source_options: Any) -> Iterator[Extraction]:
    """The extract stage, for the CLI and Dagster alike. Before the load: the token, the load a crash
    left behind, the webhook deliveries landed so far. After it (only if the load succeeded): the raw
    tables no row reached yet, the deliveries marked merged, the phones of older answers filled in.
    `webhooks_only`: the source reads the landed deliveries and nothing else from Calendly."""
    progress = progress or Progress("extract", stream=None)
    started = time.monotonic()
    token = settings.require_calendly_token()
    pipeline = calendly_pipeline(settings)
    resumed = finish_interrupted_load(pipeline, progress)
    upgrade_phones = phones_backfill.pending(settings)
    store = landing_store(settings)
    # People `calendly-elt forget` erased: their rows created before are dropped (calendly/erased.py).
    erased = erased_people(settings.warehouse)
    landed = read_landed(pipeline, store, erased=erased)
    if "trust_webhooks" not in source_options and not webhooks_only:
        source_options = {**_webhooks_cover_the_gap(settings, pipeline, store, progress), **source_options}
    source = calendly_source(access_token=token, api_url=settings.calendly_api_url,
                             progress=progress, landed=landed, erased=erased, **source_options)
    if webhooks_only:
        source = source.with_resources(*LANDED_RESOURCES)
    job = Extraction(pipeline, source, landed, resumed, webhooks_only)
    yield job
    rows: dict[str, int] = {}
    trace = pipeline.last_trace
    if job.needs_load and trace is not None and trace.last_load_info is not None:
        rows = dict(trace.last_normalize_info.row_counts)
        # A pipeline attached afresh: dagster-dlt's metadata step pops the names and types out of the
        # live schema's columns (`_extract_table_schema_metadata`, 0.29), which dlt then refuses to
        # migrate from (DestinationSchemaTampered). The stored schema is intact.
        complete_raw_schema(calendly_pipeline(settings), trace.last_load_info, progress)
    settle_landed(store, landed, progress)
    if upgrade_phones:
        progress.say(f"extract: E.164 phones added to {phones_backfill.fill(settings):,} answers loaded before this version")
    job.summary = ExtractSummary(
        seconds=time.monotonic() - started,
        counts=dict(progress.counts),
        rows_loaded={t: n for t, n in rows.items() if not t.startswith("_dlt")},
        resumed_pending=resumed,
        webhooks={"deliveries": len(landed.ids), "rejected": len(landed.rejected), "stale": landed.stale},
    )


def last_extract_at(settings: Settings) -> Optional[datetime]:
    """When the last full extract started, from the dlt state it committed with its data (the working
    folder's copy: reading it opens no warehouse connection)."""
    return _last_run_at(calendly_pipeline(settings))


def _last_run_at(pipeline: dlt.Pipeline) -> Optional[datetime]:
    from .calendly.helpers import parse_time

    previous = pipeline.state.get("sources", {}).get(calendly_source.name, {}).get("last_run_at")
    return parse_time(previous) if previous else None


def _webhooks_cover_the_gap(settings: Settings, pipeline: dlt.Pipeline, store: Optional[LandingStore],
                            progress: Progress) -> dict[str, Any]:
    """With CALENDLY_WEBHOOK_URL set and its deliveries landing beside this warehouse: whether the
    subscription delivered every change since the previous extract (pipelines/webhooks/health.py), as the
    source's options. Any doubt – no store here, a failing or young subscription, the check itself
    failing – means the safe run, with the no-show-window re-reads. The check's `/users/me` is handed
    to the source, which would otherwise ask again."""
    if not settings.webhook_url:
        return {"trust_webhooks": False}
    from .webhooks.health import Coverage, covers_since
    from .webhooks.subscriptions import SubscriptionError, Subscriptions, client_for

    options: dict[str, Any] = {}
    if store is None:
        coverage = Coverage(False, f"no webhook delivery has landed beside {settings.warehouse.name} yet")
    else:
        try:
            subs = Subscriptions(client_for(settings))
            options["token_user"] = {"uri": subs.user, "current_organization": subs.organization}
            coverage = covers_since(subs, settings.webhook_url, _last_run_at(pipeline))
        except (SubscriptionError, requests.RequestException) as exc:
            coverage = Coverage(False, f"the subscription could not be checked ({exc})")
    progress.say(f"extract: webhooks trusted – {coverage.why}; no re-read of ended events" if coverage.trusted
                 else f"extract: webhooks not trusted ({coverage.why}); re-reading the no-show window")
    return {**options, "trust_webhooks": coverage.trusted, "webhooks_deliver_submissions": coverage.submissions}


def run_extract(settings: Settings, progress: Progress | None = None, *, webhooks_only: bool = False,
                **source_options: Any) -> ExtractSummary:
    """`calendly-elt extract`: the extract stage, loaded with dlt's own `pipeline.run`."""
    with extraction(settings, progress, webhooks_only=webhooks_only, **source_options) as job:
        if job.needs_load:
            job.pipeline.run(job.source, loader_file_format="parquet")
    assert job.summary is not None
    return job.summary


def raw_counts(settings: Settings) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per raw table, and invitees by kind (active, canceled, rescheduled, no-show): the demo's
    summary of what the extract loaded."""
    with connect(settings.warehouse, read_only=True) as con:
        counts = {t: con.execute(f"select count(*) from {RAW_DATASET}.{t}").fetchone()[0] for t in RAW_TABLES}
        kinds = dict(con.execute(f"""
            select case when no_show__uri is not null then 'no-show'
                        when status = 'canceled' and rescheduled then 'rescheduled'
                        when status = 'canceled' then 'canceled' else 'active' end as kind,
                   count(*)
            from {RAW_DATASET}.invitees group by 1 order by 2 desc""").fetchall())
    return counts, kinds
