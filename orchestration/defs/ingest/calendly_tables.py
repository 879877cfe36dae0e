"""Ingest: one asset per Calendly table (`calendly/<table>`), all loaded by one dlt run.

Materialized whole, it is the incremental extract (with the webhook deliveries landed so far). The subset
of the tables webhooks change (`WEBHOOK_TABLES`) merges the landed deliveries alone, reading nothing else
from Calendly: the sensor's small run. Any other subset is refused, since the tables share one cursor.
A run's tags may widen the extract's windows (`WINDOW_TAGS`): the watchdog's catch-up after it re-created
the webhook subscription (webhook_health.py) is a scheduled-job run with them.
"""


import math
from typing import Iterator, Mapping, Optional

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, build_dlt_asset_specs
from dagster_dlt.translator import DltResourceTranslatorData

from orchestration.keys import calendly_table_key
from orchestration.resources import CalendlyEltConfig, LoggedProgress
from orchestration.running import WAREHOUSE_POOL, WAREHOUSE_RETRY, worth_retrying
from pipelines.calendly import API_RESOURCES, LISTINGS, calendly_source
from pipelines.calendly.landed import LANDED_TABLES
from pipelines.errors import CALENDLY, describe
from pipelines.extract import extraction

ROW_COUNT_CHECK = "row_count"
WAREHOUSE_METADATA = "warehouse"
# Every Calendly account has this (the token's own user, at least); an empty one means the token sees
# nothing it should. A new account has no events yet, and may have no event types.
EXPECTED_NOT_EMPTY = {"organization_memberships"}
WEBHOOK_TABLES = frozenset(calendly_table_key(table) for table in LANDED_TABLES)
# Run tag → the extract option it sets, in days (`calendly-elt extract --lookback-days/--no-show-window-days`).
WINDOW_TAGS = {"calendly_elt/lookback_days": "lookback_days",
               "calendly_elt/no_show_window_days": "no_show_window_days"}


class CalendlyTranslator(DagsterDltTranslator):
    """`calendly/<table>`, the keys the dbt sources map onto; a transformer depends on its parent."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        resource = data.resource
        parent = resource._pipe.parent if resource.is_transformer else None  # dlt has no public accessor
        # A listing resource writes no table: its transformers depend on the table it lists (or on
        # nothing, for that table itself).
        parent_table = LISTINGS.get(parent.name, parent.name) if parent is not None else None
        return super().get_asset_spec(data).replace_attributes(
            key=calendly_table_key(resource.table_name),
            deps=[calendly_table_key(parent_table)] if parent_table not in (None, resource.table_name) else [],
            group_name="calendly",
            kinds={"dlt", "calendly"},
        )


TRANSLATOR = CalendlyTranslator()


def _table_specs() -> list[dg.AssetSpec]:
    """The source is built only to list its resources: building it makes no request. The pipeline
    is left out because it depends on WAREHOUSE_PATH, known when a run starts, and building one
    creates its working folder."""
    # The landed_* resources write to the same tables as the API ones: one spec per table.
    source = calendly_source(access_token="not-used-to-list-resources").with_resources(*API_RESOURCES)
    return list(build_dlt_asset_specs(dlt_source=source, dlt_pipeline=None, dagster_dlt_translator=TRANSLATOR))


def table_keys() -> list[dg.AssetKey]:
    return [spec.key for spec in _table_specs()]


def _previous_row_count(context: dg.AssetExecutionContext, key: dg.AssetKey, warehouse: str) -> Optional[int]:
    """The count of the last materialization into the same warehouse (a new WAREHOUSE_PATH starts over)."""
    event = context.instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return None
    metadata = event.asset_materialization.metadata
    same = metadata.get(WAREHOUSE_METADATA)
    value = metadata.get("dagster/row_count")
    if same is None or same.value != warehouse or value is None or value.value is None:
        return None
    return int(value.value)


def _row_counts(pipeline, tables: list[str]) -> dict[str, Optional[int]]:
    """Rows per raw table now; None for a table no run has created yet (a resource that never yielded,
    such as routing forms for a token without admin rights). dagster-dlt's `fetch_row_count` cannot
    be used: it fails for any resource that loaded nothing in this run."""
    from dlt.destinations.exceptions import DatabaseUndefinedRelation

    counts: dict[str, Optional[int]] = {}
    with pipeline.sql_client() as client:
        for table in tables:
            try:
                with client.execute_query(f"select count(*) from {client.make_qualified_table_name(table)}") as cursor:
                    counts[table] = int(cursor.fetchone()[0])
            except DatabaseUndefinedRelation:
                counts[table] = None
    return counts


def row_count_check(key: dg.AssetKey, rows: Optional[int], previous: Optional[int]) -> dg.AssetCheckResult:
    """Loads merge on `uri`, so a table never shrinks: fewer rows than last time means the warehouse
    was replaced or edited behind the pipeline's back (error). An empty core table is a warning."""
    metadata = {"rows": rows or 0, "previous_rows": previous if previous is not None else -1}
    rows = rows or 0  # a table not created yet: no resource row so far
    if previous is not None and rows < previous:
        return dg.AssetCheckResult(asset_key=key, check_name=ROW_COUNT_CHECK, passed=False, metadata=metadata,
                                   description=f"shrank from {previous:,} to {rows:,} rows")
    if rows == 0 and key.path[-1] in EXPECTED_NOT_EMPTY:
        return dg.AssetCheckResult(asset_key=key, check_name=ROW_COUNT_CHECK, passed=False, metadata=metadata,
                                   severity=dg.AssetCheckSeverity.WARN, description="empty")
    return dg.AssetCheckResult(asset_key=key, check_name=ROW_COUNT_CHECK, passed=True, metadata=metadata)


def window_options(tags: Mapping[str, str]) -> dict[str, float]:
    """The extract windows a run's tags set; a tag that is not a non-negative number of days fails the run."""
    options = {}
    for tag, option in WINDOW_TAGS.items():
        if tag not in tags:
            continue
        try:
            days = float(tags[tag])
        except ValueError:
            days = math.nan
        if not 0 <= days < math.inf:
            raise dg.Failure(allow_retries=False, description=(
                f"run tag {tag}={tags[tag]!r} is not a number of days: give a non-negative number, such as 7.5"))
        options[option] = days
    return options


def build_calendly_tables() -> dg.AssetsDefinition:
    specs = _table_specs()

    # `dlt_assets` would do, but the tables share one cursor: a run of `invitees` alone would move the
    # event cursor without loading the events. So the same specs and `DagsterDltResource.run`, in an asset
    # that is materialized whole, or as a subset of the webhook tables, which reads no cursor.
    every_key = frozenset(spec.key for spec in specs)

    @dg.multi_asset(
        name="calendly_tables",
        specs=specs,
        check_specs=[dg.AssetCheckSpec(ROW_COUNT_CHECK, asset=spec.key,
                                       description="rows in the raw table; a merge-only table never shrinks")
                     for spec in specs],
        can_subset=True,
        pool=WAREHOUSE_POOL,
        retry_policy=WAREHOUSE_RETRY,
    )
    def calendly_tables(context: dg.AssetExecutionContext, dlt: DagsterDltResource,
                        calendly_elt: CalendlyEltConfig) -> Iterator:
        selected = frozenset(context.selected_asset_keys)
        webhooks_only = selected != every_key
        # Exactly those three: a delivery is marked merged once loaded, so every table it writes must load.
        if webhooks_only and selected != WEBHOOK_TABLES:
            raise dg.Failure(allow_retries=False, description=(
                "the Calendly tables load together (they share one cursor); the only subset is "
                f"{', '.join(sorted(k.to_user_string() for k in WEBHOOK_TABLES))}, which merges the landed webhooks"))
        windows = window_options(context.run.tags)
        if windows:
            context.log.info(f"extract windows from the run's tags: {windows}")
        settings = calendly_elt.settings()
        warehouse = settings.warehouse.name
        previous = {spec.key: _previous_row_count(context, spec.key, warehouse) for spec in specs}
        progress = LoggedProgress("extract", context.log)
        try:
            with extraction(settings, progress, webhooks_only=webhooks_only, **windows) as job:
                results = list(dlt.run(context=context, dlt_source=job.source, dlt_pipeline=job.pipeline,
                                       dagster_dlt_translator=TRANSLATOR, loader_file_format="parquet"))
            counts = _row_counts(job.pipeline, [result.asset_key.path[-1] for result in results])
        except Exception as exc:  # one line, secrets masked: dlt's messages can quote request details
            raise dg.Failure(description=describe(exc, settings.calendly_api_url, settings.secrets, CALENDLY),
                             allow_retries=worth_retrying(exc)) from None
        context.log.info(job.summary.line())
        for result in results:
            rows = counts[result.asset_key.path[-1]]
            yield result._replace(metadata={**result.metadata, WAREHOUSE_METADATA: warehouse,
                                            **({"dagster/row_count": rows} if rows is not None else {})})
            yield row_count_check(result.asset_key, rows, previous[result.asset_key])

    return calendly_tables


@dg.definitions
def ingest() -> dg.Definitions:
    return dg.Definitions(assets=[build_calendly_tables()])
