"""The transform stage: `dbt build` of dbt_project/ (models, then their data and unit tests) on the warehouse.

One way to run dbt for the CLI and for Dagster: `start_build` starts dbt through dagster-dbt's
`DbtCliResource` (a dbt subprocess with structured logs), `DbtBuild.summary` reads dbt's
run_results.json and turns a failure into one `TransformFailed` line. The CLI reads the events for
its progress; the Dagster asset streams them as materializations and asset checks.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from .config import PROJECT_ROOT, Settings, dbt_environment
from .mapping import load_mapping
from .progress import Progress
from .warehouse import connect
from .warehouse.connection import held_by_another_process, not_a_warehouse

DBT_PROJECT = PROJECT_ROOT / "dbt_project"
_FAILED = {"error", "fail", "runtime error"}
# A failure worth another attempt: DuckDB's words for a file another process holds, PostgreSQL's for a
# server that is restarting or unreachable, and for lock waits and deadlocks.
_TRANSIENT = ("could not set lock", "conflicting lock", "connection refused", "the database system is starting up",
              "server closed the connection", "could not connect to server", "deadlock detected",
              "lock timeout", "could not serialize access")


class TransformFailed(Exception):
    """dbt finished with failing models or tests, or could not run; the message names them.
    `retryable`: the cause may be gone at the next attempt (a lock, a server restarting)."""

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass
class TransformSummary:
    seconds: float
    passed: int
    warned: list[str] = field(default_factory=list)

    def line(self) -> str:
        warned = f", warnings: {', '.join(self.warned)}" if self.warned else ""
        return f"transform: done in {self.seconds:.1f}s – {self.passed} models and tests passed{warned}"


def dbt_cli() -> Any:
    """dagster-dbt's runner for this project (without its unused start-up work: dbt_cli.py), with the
    dbt installed beside this interpreter (PATH need not include the virtualenv)."""
    from .dbt_cli import DbtCli  # heavy import: only when dbt runs

    return DbtCli(project_dir=str(DBT_PROJECT), profiles_dir=str(DBT_PROJECT),
                          dbt_executable=str(Path(sys.executable).parent / "dbt"))


def target_path(settings: Settings) -> Path:
    """dbt's artifacts and log, one folder per warehouse beside it: two warehouses (or two test
    workers) never share run_results.json, and dbt_project/target/manifest.json – the one Dagster's
    definitions load (`make manifest`) – is never rewritten under a running code server."""
    return settings.data_dir / ".dbt" / settings.warehouse.working_dir_name()


@dataclass
class DbtBuild:
    """A started `dbt build`: stream `invocation`'s events, then call `summary()`."""
    invocation: Any  # dagster_dbt.DbtCliInvocation
    target: Path
    started: float
    select: Optional[str] = None  # the CLI's --select, if any

    def summary(self) -> TransformSummary:
        """What the build did, or TransformFailed naming what failed (waits for dbt to finish)."""
        run_results = self.target / "run_results.json"
        if not self.invocation.is_successful() and not run_results.exists():
            # dbt stopped before running any node: a lock, a parse error, bad vars
            message = str(self.invocation.get_error() or "dbt build failed").strip()
            held = held_by_another_process(message)
            if held:
                raise TransformFailed(held, retryable=True)
            if (refused := not_a_warehouse(message)) is not None:
                raise TransformFailed(refused)
            raise TransformFailed(f"dbt could not run: {_dbt_error_line(message)} (dbt's log: "
                                  f"{self.target / 'dbt.log'})", retryable=_transient(message))
        results = json.loads(run_results.read_text()).get("results", [])

        def names(statuses: set[str]) -> list[str]:
            return sorted(_node_name(r["unique_id"]) for r in results if r["status"] in statuses)

        if self.select and not results:  # dbt only warns ("Nothing to do"): a typo'd name ran nothing
            raise TransformFailed(f"--select {self.select!r} matches no model or test: name models as in "
                                  "dbt_project/models, e.g. contacts, or contacts+ with what depends on it")
        failed, skipped = names(_FAILED), names({"skipped"})
        if failed or not self.invocation.is_successful():
            more = f" (and {len(skipped)} skipped after them)" if skipped else ""
            messages = " ".join(r.get("message") or "" for r in results if r["status"] == "error")
            raise TransformFailed(f"{len(failed)} failed: {', '.join(failed)}{more}", retryable=_transient(messages))
        return TransformSummary(seconds=time.monotonic() - self.started, passed=len(names({"success", "pass"})),
                                warned=names({"warn"}))


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _node_name(unique_id: str) -> str:
    """`model.calendly_elt.contacts` → contacts; a data test's id ends in a hash after its name."""
    kind, _, rest = unique_id.split(".", 2)
    return rest.split(".")[0] if kind == "test" else rest.rsplit(".", 1)[-1]


def _transient(message: str) -> bool:
    return any(word in message.lower() for word in _TRANSIENT)


def _dbt_error_line(message: str) -> str:
    """dagster-dbt's error text wraps dbt's own messages (after "Errors parsed from dbt logs:", before
    any traceback); the first of dbt's is the one to show. The rest is in dbt's log file."""
    _, parsed, dbt_part = message.partition("Errors parsed from dbt logs:")
    text = dbt_part if parsed else message
    lines = [line.strip() for line in text.split("Traceback (most recent call last)")[0].splitlines() if line.strip()]
    ours = [line for line in lines if not line.startswith(("The dbt CLI process", "Check the stdout", "`"))
            and line != "Encountered an error:"]
    return (ours or lines or ["dbt build failed"])[0]


def start_build(settings: Settings, *, as_of: Optional[str] = None, select: Optional[str] = None,
                dbt: Any = None, context: Any = None, unit_tests: bool = True) -> DbtBuild:
    """Start `dbt build` on the warehouse of `settings`, with the mapping's vars. `as_of` pins "now"
    for the booking statuses; `select` is a dbt selection (the CLI's; Dagster selects through
    `context`, the asset execution context of the dbt assets). `unit_tests=False` leaves dbt's unit
    tests out: they test the SQL on fixed rows, not the data, so a run between two runs that include
    them (a webhook run) would repeat them for nothing. Data tests always run."""
    warehouse = settings.warehouse
    if warehouse.absent:
        raise TransformFailed(f"no warehouse at {warehouse.name}: run `calendly-elt extract` first")
    variables = load_mapping(settings.mapping_path).dbt_vars()
    if as_of:
        variables["as_of"] = as_of
    args = ["build", "--vars", json.dumps(variables)] + (["--select", select] if select else []) \
        + ([] if unit_tests else ["--exclude", "resource_type:unit_test"])
    settings.ensure_data_dir()
    target = target_path(settings)
    target.mkdir(parents=True, exist_ok=True)
    (target / "run_results.json").unlink(missing_ok=True)  # dbt writes it only if it got as far as running nodes
    started = time.monotonic()
    # The dbt profile reads the warehouse from the environment (dbt_project/profiles.yml); the dbt
    # subprocess gets a copy of it when it starts, so it is set for the start only.
    with dbt_environment(warehouse):
        invocation = (dbt or dbt_cli()).cli(args, context=context, target_path=target, raise_on_error=False)
    return DbtBuild(invocation, target, started, select)


def run_transform(settings: Settings, progress: Progress | None = None, as_of: Optional[str] = None,
                  select: Optional[str] = None, unit_tests: bool = True) -> TransformSummary:
    """`calendly-elt transform`: build every model and run every test, with a progress line.
    `unit_tests=False`: without dbt's unit tests (see `start_build`)."""
    progress = progress or Progress("transform", stream=None)
    # dagster-dbt echoes every dbt log line on stdout and logs its commands; the CLI shows its own
    # progress instead, and dbt's full log stays in dbt.log in the target folder.
    with contextlib.redirect_stdout(io.StringIO()), _quiet(logging.getLogger("dagster.builtin")):
        build = start_build(settings, as_of=as_of, select=select, unit_tests=unit_tests)
        for event in build.invocation.stream_raw_events():
            name = event.raw_event["info"]["name"]
            node = event.raw_event.get("data", {}).get("node_info") or {}
            if name.startswith("Log") and name.endswith("Result") and node.get("resource_type"):
                progress.add(**{f"{node['resource_type'].replace('_', ' ')}s done": 1})
    return build.summary()


@dataclass
class MartsCounts:
    bookings: int
    contacts: int
    statuses: dict[str, int]  # contacts by booking status, most common first

    def line(self) -> str:
        statuses = ", ".join(f"{status} {n:,}" for status, n in self.statuses.items())  # none in an empty account
        return (f"marts.bookings: {self.bookings:,} rows; marts.contacts: {self.contacts:,} people"
                + (f" – {statuses}" if statuses else ""))


def marts_counts(settings: Settings) -> MartsCounts:
    """What the transform built, in numbers (the demo's summary)."""
    with connect(settings.warehouse, read_only=True) as con:
        bookings = con.execute("select count(*) from marts.bookings").fetchone()[0]
        contacts = con.execute("select count(*) from marts.contacts").fetchone()[0]
        rows = con.execute("select booking_status, count(*) from marts.contacts group by 1 order by 2 desc, 1").fetchall()
    return MartsCounts(bookings, contacts, dict(rows))
