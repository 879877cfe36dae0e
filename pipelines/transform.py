"""The transform stage: `dbt build` of dbt_project/ (models, then their data and unit tests) on the warehouse."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from .config import PROJECT_ROOT, Settings
from .mapping import load_mapping
from .progress import Progress
from .warehouse import dbt_environment

DBT_PROJECT = PROJECT_ROOT / "dbt_project"
_FAILED = {"error", "fail", "runtime error"}


class TransformFailed(Exception):
    """dbt finished with failing models or tests; the message names them."""


@dataclass
class TransformSummary:
    seconds: float
    passed: int
    warned: list[str] = field(default_factory=list)

    def line(self) -> str:
        warned = f", warnings: {', '.join(self.warned)}" if self.warned else ""
        return f"transform: done in {self.seconds:.1f}s – {self.passed} models and tests passed{warned}"


def dbt_args(command: str, settings: Settings, as_of: str | None = None, select: str | None = None) -> list[str]:
    variables = {"field_mapping": load_mapping(settings.mapping_path).question_fields()}
    if as_of:
        variables["as_of"] = as_of
    # A target folder of its own: dbt_project/target/manifest.json is the one Dagster loads
    # (`make manifest`), and a CLI run must not rewrite it under a running code server.
    args = [command, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
            "--target-path", str(DBT_PROJECT / "target" / "cli"), "--vars", json.dumps(variables), "--quiet"]
    return args + (["--select", select] if select else [])


def _release_warehouse() -> None:
    """dbt-duckdb keeps the warehouse open in this process after a run, which blocks every other
    connection to the file (DuckDB: one writer). Close it, as the next stage or an analyst needs it.
    (dbt-duckdb's own `close_all_connections` drops its reference without closing the database.)"""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter
        return
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def run_transform(settings: Settings, progress: Progress | None = None, as_of: str | None = None,
                  select: str | None = None) -> TransformSummary:
    """Build every model and run every test; `as_of` pins "now" for the booking statuses."""
    from dbt.cli.main import dbtRunner  # heavy import: only when the stage runs

    progress = progress or Progress("transform", stream=None)
    started = time.monotonic()
    warehouse = settings.warehouse
    if warehouse.absent:
        raise TransformFailed(f"no warehouse at {warehouse.name}: run `calendly-elt extract` first")

    def on_event(event) -> None:
        if event.info.name == "NodeFinished":
            node = event.data.node_info
            progress.add(**{f"{node.resource_type.replace('_', ' ')}s done": 1})

    try:
        # The dbt profile reads the warehouse from the environment (dbt_project/profiles.yml).
        with dbt_environment(warehouse):
            result = dbtRunner(callbacks=[on_event]).invoke(dbt_args("build", settings, as_of, select))
    finally:
        _release_warehouse()
    if result.exception is not None:
        raise TransformFailed(f"dbt could not run: {str(result.exception).strip().splitlines()[0]}")
    results = list(result.result or [])
    failed = [r.node.name for r in results if str(r.status) in _FAILED]
    skipped = [r.node.name for r in results if str(r.status) == "skipped"]
    if failed or not result.success:
        more = f" (and {len(skipped)} skipped after them)" if skipped else ""
        raise TransformFailed(f"{len(failed)} failed: {', '.join(sorted(failed))}{more}")
    return TransformSummary(
        seconds=time.monotonic() - started,
        passed=sum(str(r.status) in {"success", "pass"} for r in results),
        warned=sorted(r.node.name for r in results if str(r.status) == "warn"),
    )
