"""`calendly-elt`: the command line. Every command exits non-zero with a one-line reason on failure.

Each command calls its stage's one function (the Dagster assets call the same ones); what is here is
only the command line: options, the variables each command reads (shown in its help), what is printed.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, TypeVar

import typer
from typing_extensions import Annotated

from .config import PROJECT_ROOT, Settings, dlt_telemetry_off_by_default, http_url, variable_help
from .exceptions import ConfigError
from .errors import BREVO, CALENDLY, describe
from .progress import Progress

DEMO_WAREHOUSE = PROJECT_ROOT / "data" / "demo" / "warehouse.duckdb"
# The sandbox's account profiles (PROFILES in sandbox/calendly/shapes.py; a test keeps the two equal), written
# out so that building the command line imports nothing of the sandbox: the pipeline never imports it.
SANDBOX_PROFILES = ("empty", "solo", "team", "enterprise", "messy")
SandboxProfile = Enum("SandboxProfile", {name: name for name in SANDBOX_PROFILES}, type=str)

# The variables each command reads, shown under its help (descriptions: Settings in config.py).
WAREHOUSE = ("WAREHOUSE_PATH", "WAREHOUSE_URL")
CALENDLY_API = ("CALENDLY_ACCESS_TOKEN", "CALENDLY_API_URL", "CALENDLY_OAUTH_TOKEN_FILE", "CALENDLY_CLIENT_SECRET")
BREVO_API = ("BREVO_API_KEY", "BREVO_API_URL")
MAPPING = ("CALENDLY_ELT_CONFIG",)
COMMON = ("CALENDLY_ELT_LOG_LEVEL",)
T = TypeVar("T")


class _Command(typer.core.TyperCommand):
    """A command whose help ends with the environment variables it reads (`reads`), described by the
    settings; `sandbox --help` also describes each profile, read from the sandbox only then."""

    reads: Sequence[str] = ()

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.epilog = variable_help([*self.reads, *COMMON]) + _profiles_help(self)
        super().format_help(ctx, formatter)


def _profiles_help(command: Any) -> str:
    if not any(param.name == "profile" for param in command.params):
        return ""
    from sandbox.calendly.shapes import PROFILES

    return "\n\nProfiles: " + "; ".join(f"{name} ({p.description})" for name, p in PROFILES.items())


def _reads(*groups: Sequence[str]) -> type[_Command]:
    """A command class whose help lists the variables of `groups` (each once, in order)."""
    return type("Command", (_Command,), {"reads": tuple(dict.fromkeys(name for group in groups for name in group))})


app = typer.Typer(name="calendly-elt", help=__doc__.splitlines()[0], no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode="rich",
                  context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
webhooks_app = typer.Typer(help="Calendly webhooks: the signed receiver and the subscriptions.", no_args_is_help=True)
auth_app = typer.Typer(help="Calendly OAuth: log in once; access tokens refresh themselves.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(auth_app, name="auth")


class _State:
    """What `main` needs to turn a failure into one line: the settings, and whose API failed."""
    settings: Optional[Settings] = None
    command: str = ""  # the top-level command, as typed
    stage: str = ""


_state = _State()


def _settings(stage: str) -> Settings:
    _state.stage = stage
    _state.settings = Settings.from_env()
    return _state.settings


def _staged(stage: str, run: Callable[[Progress], T]) -> T:
    """`run(progress)` as `stage`: its counters on stderr while it runs, and a failure from it
    described as that stage's (the Brevo sync's as Brevo's)."""
    _state.stage = stage
    with _progress(stage) as progress:
        return run(progress)


def _iso_time(flag: str, value: Optional[str]) -> Optional[str]:
    """An ISO date or timestamp (a `Z` suffix allowed), as the extract reads one, in the form it was
    given; else a usage error naming the flag."""
    if value is None:
        return None
    from .calendly.helpers import parse_time

    try:
        parse_time(value.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date or timestamp, e.g. 2025-01-31 or "
                                 "2025-01-31T09:00:00Z", param_hint=flag) from None
    return value.strip()


def _http_url(flag: str, value: str) -> str:
    """The settings' URL check (config.http_url), as a usage error naming the flag."""
    try:
        return http_url(value, "https://hooks.example.com/webhooks/calendly")
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=flag) from None


# ------------------------------------------------------------------------------------------ stages

@app.command(cls=_reads(CALENDLY_API, WAREHOUSE))
def extract(
    start_date: Annotated[Optional[str], typer.Option(
        help="First run only: oldest event start to load (ISO date, e.g. 2025-01-31). Default: all history.",
        show_default=False, callback=lambda value: _iso_time("--start-date", value))] = None,
    lookback_days: Annotated[Optional[float], typer.Option(
        min=0, help="Re-list events from the last run minus this many days. Default: 7.", show_default=False)] = None,
    no_show_window_days: Annotated[Optional[float], typer.Option(
        min=0, help="Re-read the invitees of events that ended this recently (days). Default: 7.",
        show_default=False)] = None,
    max_workers: Annotated[Optional[int], typer.Option(
        min=1, help="Concurrent invitee reads at most. Default: 8.", show_default=False)] = None,
    webhooks_only: Annotated[bool, typer.Option(
        "--webhooks-only", help="Merge only the webhook deliveries landed by `webhooks serve` (no listing).")] = False,
) -> int:
    """Load Calendly into [bold]calendly_raw[/bold], incrementally, with the webhook deliveries landed so far."""
    from .extract import run_extract

    settings = _settings("extract")
    options = {"start_date": start_date, "lookback_days": lookback_days,
               "no_show_window_days": no_show_window_days, "max_workers": max_workers}
    # Unset options stay unset, so dlt's own config (SOURCES__CALENDLY__...) and defaults apply.
    summary = _staged("extract", lambda progress: run_extract(
        settings, progress, webhooks_only=webhooks_only, **{k: v for k, v in options.items() if v is not None}))
    print(summary.line())
    for table, rows in sorted(summary.rows_loaded.items()):
        print(f"  {table}: {rows:,} rows")
    print(f"warehouse: {settings.warehouse.name}")
    return 0


@app.command(cls=_reads(WAREHOUSE, MAPPING))
def transform(
    as_of: Annotated[Optional[str], typer.Option(
        help="Pin 'now' for the booking statuses (ISO timestamp, e.g. 2025-01-31T09:00:00Z), e.g. to rebuild "
             "history.", show_default=False, callback=lambda value: _iso_time("--as-of", value))] = None,
    select: Annotated[Optional[str], typer.Option(
        help="dbt node selection, e.g. 'contacts+'. Default: everything.", show_default=False)] = None,
) -> int:
    """dbt build: the staging views, the marts and their tests."""
    from .transform import run_transform

    settings = _settings("transform")
    print(_staged("transform", lambda progress: run_transform(settings, progress, as_of=as_of, select=select)).line())
    print(f"warehouse: {settings.warehouse.name} (schemas staging, marts)")
    return 0


@app.command(cls=_reads(BREVO_API, WAREHOUSE, MAPPING))
def sync(
    dry_run: Annotated[bool, typer.Option("--dry-run", help=(
        "Check the key (one read-only request), count creates, updates and skips, and show a few; send nothing."))] = False,
) -> int:
    """Push the contacts that are new, changed or failed before to Brevo."""
    from .brevo.sync import run_sync

    settings = _settings("sync")
    summary = _staged("sync", lambda progress: run_sync(settings, progress, dry_run=dry_run))
    print(summary.line())
    if dry_run:
        for contact in summary.samples:
            print(f"  {contact.email}: lists {', '.join(contact.lists)}; {json.dumps(contact.attributes, default=str)}"
                  + (f"  ({'; '.join(contact.notes)})" if contact.notes else ""))
    return 1 if summary.failed else 0


@app.command(cls=_reads(WAREHOUSE))
def report(
    out: Annotated[Optional[Path], typer.Option(
        help="Folder for scheduling_report.html. Default: reports/ beside the warehouse.", show_default=False,
        file_okay=False)] = None,
) -> int:
    """Write the scheduling report (HTML with charts) from the marts."""
    from .report import ReportError, build_report

    settings = _settings("report")
    try:
        built = build_report(settings.warehouse, out.expanduser().resolve() if out else settings.reports_dir)
    except ReportError as exc:  # already one line saying what to do
        _say_failed(str(exc))
        return 1
    print(f"report: {built.path}")
    print(built.markdown())
    return 0


@app.command(cls=_reads(CALENDLY_API, WAREHOUSE, MAPPING, BREVO_API))
def run() -> int:
    """Extract, transform, snapshot, report and sync, in order.

    A failed extract or transform stops the run; after them, as in the Dagster job, the snapshot, the
    report and the Brevo sync do not depend on one another."""
    from .brevo.sync import run_sync
    from .extract import run_extract
    from .mapping import load_mapping
    from .report import ReportError, build_report
    from .snapshot import publish
    from .transform import run_transform

    settings = _settings("run")
    load_mapping(settings.mapping_path)  # a mistake in it stops the run before anything is read or sent
    print(_staged("extract", lambda progress: run_extract(settings, progress)).line())
    print(_staged("transform", lambda progress: run_transform(settings, progress)).line())
    _state.stage = "snapshot"
    print(publish(settings).line())
    status = 0
    try:
        print(f"report: {build_report(settings.warehouse, settings.reports_dir).path}")
    except ReportError as exc:  # already one line saying what to do
        _say_failed(str(exc))
        status = 1
    if not settings.brevo_api_key:
        print("sync: skipped – BREVO_API_KEY is not set")
        return status
    summary = _staged("sync", lambda progress: run_sync(settings, progress))
    print(summary.line())
    return 1 if summary.failed else status


@app.command(cls=_reads(WAREHOUSE, BREVO_API, MAPPING, CALENDLY_API))
def forget(
    emails: Annotated[List[str], typer.Argument(
        metavar="EMAIL...", help="The people to erase, by email address (matched trimmed, without regard to case).",
        show_default=False)],
    calendly: Annotated[bool, typer.Option(
        "--calendly", help="Also request Calendly's own deletion of these invitees (Enterprise plans, an owner or "
                           "admin token with the data requests permission; Calendly anonymizes within 7 days).")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Erase nothing: say whether and when each address was erased, from the audit table "
                        "erasure.requests.")] = False,
) -> int:
    """Erase people (GDPR): from the warehouse, marts, snapshot, sync state, webhook store, dlt's files and Brevo.

    Later runs keep their old bookings out; a booking made after the erasure comes back. Covered and not: docs/erasure.md."""
    from .erasure.emails import checked_emails
    from .forget import ErasureIncomplete, run_forget

    wanted = checked_emails(emails)  # an invalid address: one line, nothing done
    settings = _settings("forget")
    if check:
        from .erasure.audit import checks

        found = checks(settings.warehouse, wanted)
        for result in found:
            print(result.line())
        return 0 if all(result.requests for result in found) else 1
    try:
        summary = _staged("forget", lambda progress: run_forget(settings, wanted, calendly=calendly,
                                                                progress=progress))
    except ErasureIncomplete as exc:
        _say_failed(str(exc))
        return 1
    for line in summary.lines():
        print(line)
    if summary.calendly_refused:
        _say_failed(f"Calendly's deletion was not requested – {summary.calendly_refused} "
                    "(everything above was erased locally and in Brevo)")
        return 1
    failed = [p for p in summary.people if p.brevo.startswith("failed")]
    if failed:
        _say_failed(f"Brevo did not delete {', '.join(p.email for p in failed)} ({failed[0].brevo}); "
                    "run forget again to retry (the local erasure is done)")
        return 1
    return 0


@app.command(cls=_reads(WAREHOUSE))
def sql(
    query: Annotated[Optional[str], typer.Argument(
        help="A query to run and print. Without one, the DuckDB shell opens.", show_default=False)] = None,
    live: Annotated[bool, typer.Option(
        "--live", help="Open the warehouse itself (read-only) instead of the snapshot: while the shell is open, "
                       "runs cannot write it.")] = False,
) -> int:
    """Query the analysts' snapshot (analytics.duckdb beside the warehouse), read-only: in the DuckDB shell, or one query."""
    import subprocess

    from .analyst_sql import postgres_query, shell_command

    settings = _settings("sql")
    if settings.warehouse.kind == "duckdb":
        return subprocess.run(shell_command(settings, query, live=live)).returncode
    if not query:
        raise ConfigError("the warehouse is PostgreSQL (WAREHOUSE_URL): open it with psql and query the schema "
                          "`analytics` (the last good run), or pass a query: calendly-elt sql \"select …\"")
    from rich.console import Console
    from rich.table import Table

    columns, rows = postgres_query(settings, query)
    table = Table(*columns)
    for row in rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    Console().print(table)
    return 0


# --------------------------------------------------------------------------------- the sandboxes

# The generated account's options, the same for `sandbox` and `demo`.
ProfileOption = Annotated[SandboxProfile, typer.Option(help="Kind of Calendly account (profiles below).")]
EventsOption = Annotated[Optional[int], typer.Option(min=0, help="Scheduled events. Default: the profile's.",
                                                     show_default=False)]
SeedOption = Annotated[int, typer.Option(help="Seed of the generated account.")]
NowOption = Annotated[Optional[str], typer.Option(
    help="The instant the account's history is generated around (ISO timestamp; the same seed and now give the "
         "same account). Default: the current time.", show_default=False,
    callback=lambda value: _iso_time("--now", value))]

@app.command(cls=_reads())
def sandbox(
    profile: ProfileOption = SandboxProfile("team"),
    events: EventsOption = None,
    seed: SeedOption = 7,
    now: NowOption = None,
    port: Annotated[int, typer.Option(help="Calendly sandbox port (0: any free one).")] = 8765,
    brevo_port: Annotated[int, typer.Option(help="Brevo sandbox port (0: any free one).")] = 8766,
    rate_limit: Annotated[Optional[int], typer.Option(
        min=0, help="Requests per minute per token. Default: the profile's plan, 50 or 500; 0: none.",
        show_default=False)] = None,
    fault_rate: Annotated[float, typer.Option(min=0, max=1, help="Share of requests that fail.")] = 0.0,
    latency_ms: Annotated[float, typer.Option(min=0, help="Added to every answer.")] = 0.0,
) -> int:
    """Serve the Calendly and Brevo sandboxes on loopback until Ctrl-C, and print how to point calendly-elt at them."""
    from sandbox.stack import start_sandboxes

    _state.stage = "sandbox"
    with start_sandboxes(profile.value, events=events, seed=seed, calendly_port=port, brevo_port=brevo_port,
                         rate_limit=rate_limit, fault_rate=fault_rate, latency_ms=latency_ms, now=now) as sandboxes:
        limit = f"{sandboxes.rate_limit:,} requests/minute" if sandboxes.rate_limit else "no rate limit"
        print(f"Calendly sandbox: {sandboxes.calendly.url} (profile {profile.value}: {sandboxes.events:,} events, "
              f"seed {seed}, now {sandboxes.now:%Y-%m-%dT%H:%M:%SZ}, {limit})")
        print(f"Brevo sandbox:    {sandboxes.brevo.url}")
        print("Point calendly-elt at them with:")
        notes = {"CALENDLY_ACCESS_TOKEN": "   # organization owner"}
        for name, value in sandboxes.env().items():
            print(f"  export {name}={value}{notes.get(name, '')}")
        member = sandboxes.calendly_account.tokens.get("member")  # a solo or empty account has no one but the owner
        if member:
            print(f"  # a Calendly member without admin rights: {member}")
        print("Ctrl-C stops them.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


@app.command(cls=_reads(MAPPING))
def demo(
    profile: ProfileOption = SandboxProfile("team"),
    events: EventsOption = None,
    seed: SeedOption = 7,
    now: NowOption = None,
    warehouse: Annotated[Path, typer.Option(
        help="The demo's warehouse file, emptied first; the report goes to reports/ beside it.",
        show_default="data/demo/warehouse.duckdb in the repo")] = DEMO_WAREHOUSE,
) -> int:
    """Run the whole pipeline on the sandboxes (Calendly and Brevo) into a demo warehouse of its own; print each stage's summary."""
    from sandbox.stack import start_sandboxes

    from .analyst_sql import shell_command
    from .brevo.sync import run_sync
    from .extract import raw_counts, run_extract
    from .mapping import load_mapping
    from .report import ReportError, build_report
    from .snapshot import publish
    from .transform import marts_counts, run_transform

    settings = _settings("demo")
    load_mapping(settings.mapping_path)  # a mistake in it stops the demo before the sandboxes start
    # A folder of its own: the demo's warehouse, dlt state and report never mix with a real account's.
    warehouse = warehouse.expanduser().resolve()
    # Each demo generates a new sandbox account, so it starts from an empty demo warehouse.
    warehouse.unlink(missing_ok=True)
    shutil.rmtree(warehouse.parent / ".dlt" / warehouse.stem, ignore_errors=True)
    # No Calendly rate limit: the demo shows the pipeline in seconds (`calendly-elt sandbox` has the profile's).
    with start_sandboxes(profile.value, events=events, seed=seed, rate_limit=0, import_seconds=0.1,
                         brevo_api_key="xkeysib-demo-sandbox", now=now) as sandboxes:
        print(f"demo: Calendly sandbox with {sandboxes.events:,} events at {sandboxes.calendly.url}, "
              f"Brevo sandbox at {sandboxes.brevo.url}")
        env = sandboxes.env()
        demo_settings = settings.with_(calendly_token=env["CALENDLY_ACCESS_TOKEN"],
                                       calendly_api_url=env["CALENDLY_API_URL"], warehouse_path=warehouse,
                                       warehouse_url=None, brevo_api_key=env["BREVO_API_KEY"],
                                       brevo_api_url=env["BREVO_API_URL"])
        _state.settings = demo_settings
        print(_staged("extract", lambda progress: run_extract(demo_settings, progress)).line())
        tables, invitees = raw_counts(demo_settings)
        for table, n in tables.items():
            print(f"  calendly_raw.{table}: {n:,} rows")
        print("  invitees: " + (", ".join(f"{kind} {n:,}" for kind, n in invitees.items()) or "none"))
        print(_staged("transform", lambda progress: run_transform(demo_settings, progress)).line())
        print(f"  {marts_counts(demo_settings).line()}")
        print(_staged("sync", lambda progress: run_sync(demo_settings, progress)).line())
        lists = sandboxes.brevo_account.lists()
        names = ", ".join(sorted(v["name"] for v in lists.values()))
        print(f"  Brevo now holds {len(sandboxes.brevo_account.contacts()):,} contacts in {len(lists)} lists"
              + (f": {names}" if names else ""))
    _state.stage = "snapshot"
    print(publish(demo_settings).line())
    _state.stage = "report"
    try:
        print(f"report: {build_report(warehouse, demo_settings.reports_dir).path}")
    except ReportError as exc:  # already one line saying what to do
        _say_failed(str(exc))
        return 1
    print(f"warehouse: {warehouse}")
    print("  query the analysts' snapshot (read-only; runs keep writing the warehouse meanwhile):")
    print(f"  {_shown(Path(shell_command(demo_settings)[0]))} -readonly {_shown(demo_settings.analytics_path)} "
          "-c \"select booking_status, count(*) from marts.contacts group by 1\"")
    return 0


# -------------------------------------------------------------------------------------- webhooks

class Scope(str, Enum):
    organization = "organization"
    user = "user"


@webhooks_app.command(cls=_reads(("CALENDLY_WEBHOOK_SIGNING_KEY", "WAREHOUSE_PATH")))
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8787,
    tolerance_seconds: Annotated[float, typer.Option(
        help="Largest accepted age of a signature timestamp, either way.")] = 180,
    max_body_bytes: Annotated[int, typer.Option(help="Larger deliveries are refused with 413.")] = 1_000_000,
) -> int:
    """Receive signed Calendly webhooks into the landing store beside the warehouse, until Ctrl-C."""
    from .webhooks import landing_path
    from .webhooks.serve import serve as serve_webhooks
    from .webhooks.subscriptions import signing_key

    settings = _settings("webhooks")

    def listening(url: str, store: Any) -> None:
        print(f"webhooks: POST {url} → {store.path}", flush=True)
        print("Ctrl-C stops it.", flush=True)

    serve_webhooks(signing_key(settings), landing_path(settings), host=host, port=port,
                   tolerance_seconds=tolerance_seconds, max_body_bytes=max_body_bytes, on_listening=listening)
    return 0


def _subscriptions(settings: Settings, command: str, action: Callable[[Any], int]) -> int:
    """Run `action(Subscriptions)`; its SubscriptionError is the one line to print."""
    from .webhooks.subscriptions import SubscriptionError, Subscriptions, client_for

    try:
        return action(Subscriptions(client_for(settings)))
    except SubscriptionError as exc:
        print(f"calendly-elt webhooks {command}: {exc}", file=sys.stderr)
        return 1


def _webhook_events() -> type[Enum]:
    from .webhooks.subscriptions import ORGANIZATION_EVENTS

    return Enum("WebhookEvent", {name: name for name in ORGANIZATION_EVENTS}, type=str)


WebhookEvent = _webhook_events()


@webhooks_app.command(cls=_reads(CALENDLY_API, ("CALENDLY_WEBHOOK_SIGNING_KEY",)))
def subscribe(
    url: Annotated[str, typer.Option(help="Public HTTPS URL of `webhooks serve`'s /webhooks/calendly.",
                                     show_default=False, callback=lambda value: _http_url("--url", value))],
    scope: Annotated[Scope, typer.Option(
        help="organization (needs an owner or admin token) or user (your own events).")] = Scope.organization,
    event: Annotated[Optional[List[WebhookEvent]], typer.Option(  # type: ignore[valid-type]
        help="An event to receive, repeatable. Default: all of them (user scope: the invitee ones).",
        show_default=False)] = None,
) -> int:
    """Subscribe a URL to Calendly's webhooks, signed with CALENDLY_WEBHOOK_SIGNING_KEY."""
    from .webhooks.subscriptions import describe_subscription, signing_key

    settings = _settings("webhooks")
    key = signing_key(settings)  # before any request: a subscription the receiver cannot verify is useless

    def create(subs) -> int:
        outcome = subs.subscribe(url, key, scope=scope.value, events=[e.value for e in event or ()] or None)
        print(("subscribed: " if outcome.created else "already subscribed: ")
              + describe_subscription(outcome.subscription))
        return 0
    return _subscriptions(settings, "subscribe", create)


@webhooks_app.command("list", cls=_reads(CALENDLY_API))
def list_subscriptions(
    scope: Annotated[Scope, typer.Option(help="Whose subscriptions.")] = Scope.organization,
) -> int:
    """List webhook subscriptions: uri, state, scope, url, events."""
    from .webhooks.subscriptions import describe_subscription

    settings = _settings("webhooks")

    def show(subs) -> int:
        rows = subs.list(scope.value)
        for sub in rows:
            print(describe_subscription(sub))
        if not rows:
            print(f"no {scope.value}-scope webhook subscriptions")
        return 0
    return _subscriptions(settings, "list", show)


@webhooks_app.command(cls=_reads(CALENDLY_API))
def delete(subscription: Annotated[str, typer.Argument(metavar="URI_OR_UUID",
                                                       help="The subscription, as `webhooks list` shows it.")]) -> int:
    """Delete a webhook subscription."""
    settings = _settings("webhooks")

    def remove(subs) -> int:
        print(f"deleted webhook subscription {subs.delete(subscription)}")
        return 0
    return _subscriptions(settings, "delete", remove)


@webhooks_app.command(cls=_reads(CALENDLY_API, ("CALENDLY_WEBHOOK_URL", "CALENDLY_WEBHOOK_SIGNING_KEY"), WAREHOUSE))
def check(
    repair: Annotated[bool, typer.Option(
        "--repair", help="Re-create a disabled or missing subscription (signed with CALENDLY_WEBHOOK_SIGNING_KEY), "
                         "then extract the gap with windows widened to cover it.")] = False,
) -> int:
    """Is the subscription of CALENDLY_WEBHOOK_URL active and complete? One line; exit 1 if not (and not repaired)."""
    from .extract import last_extract_at, run_extract
    from .webhooks.health import check as check_health, repair as repair_subscription, webhook_url
    from .webhooks.subscriptions import SubscriptionError, signing_key

    settings = _settings("webhooks")
    url = webhook_url(settings)
    key = signing_key(settings) if repair else None  # before any request, as `subscribe` does

    def watch(subs) -> int:
        health = check_health(subs, url)
        if health.healthy:
            print(health.line)
            return 0
        if not repair:
            raise SubscriptionError(health.line)
        repaired = repair_subscription(subs, health, key, last_extract_at(settings))
        print(repaired.line(health), flush=True)
        print(_staged("extract", lambda progress: run_extract(settings, progress, **repaired.extract_options)).line())
        return 0
    return _subscriptions(settings, "check", watch)


# ------------------------------------------------------------------------------------------ auth

@auth_app.command(cls=_reads(("CALENDLY_CLIENT_ID", "CALENDLY_CLIENT_SECRET", "CALENDLY_AUTH_URL",
                              "CALENDLY_OAUTH_TOKEN_FILE", "WAREHOUSE_PATH")))
def login(
    host: Annotated[str, typer.Option(help="Loopback address of the redirect URI.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(
        help="Port of the redirect URI http://HOST:PORT/callback registered for the OAuth app (0: any free port).")] = 0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the browser to come back.")] = 300,
) -> int:
    """Log in to Calendly in the browser (OAuth 2.0 + PKCE) and store the tokens; they refresh themselves."""
    import webbrowser

    from .oauth import TokenStore, login as oauth_login

    settings = _settings("auth")
    store = TokenStore(settings.oauth_token_path)
    client = settings.oauth_client()

    def open_browser(url: str) -> None:
        print(f"Opening Calendly's login page; if no browser opens, visit:\n  {url}", flush=True)
        webbrowser.open(url)

    tokens = oauth_login(store, client, open_browser=open_browser, host=host, port=port, timeout=timeout)
    print(f"logged in as {tokens.owner}; tokens in {store.path} (mode 0600), refreshed before they expire")
    return 0


# ----------------------------------------------------------------------------------- running it

def _progress(stage: str) -> Progress:
    """Counters on stderr: a live Rich status line in a terminal, plain lines every few seconds otherwise."""
    if sys.stderr.isatty():
        from .progress import RichProgress

        return RichProgress(stage)
    return Progress(stage)


def _shown(path: Path) -> str:
    """`path` as the user can type it here: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _say_failed(reason: str) -> None:
    """The one line of a failure: `calendly-elt <command>: <what to fix>`, on stderr."""
    print(f"calendly-elt{' ' + _state.command if _state.command else ''}: {reason}", file=sys.stderr)


def _fail(exc: BaseException) -> None:
    settings = _state.settings or Settings()
    brevo = _state.stage == "sync"
    _say_failed(describe(exc, (settings.brevo_api_url or BREVO.default_url) if brevo else settings.calendly_api_url,
                         secrets=settings.secrets, service=BREVO if brevo else CALENDLY))


def command() -> Any:
    """The click command behind `app` (tests parse with it)."""
    return typer.main.get_command(app)


_COMMAND_NAMES = {"webhooks", "auth", *(c.name or c.callback.__name__ for sub in (app, webhooks_app, auth_app)
                                        for c in sub.registered_commands)}


def _not_a_connect_retry(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("Retrying (")


def _configure_logging() -> None:
    level = logging.getLevelName(Settings.from_env().log_level.upper())
    logging.basicConfig(level=level if isinstance(level, int) else logging.WARNING, format="%(message)s")
    # urllib3 warns of each connect retry (pipelines/retries.py); the failure, if it comes, is one line.
    logging.getLogger("urllib3.connectionpool").addFilter(_not_a_connect_retry)
    dlt_telemetry_off_by_default()


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    _state.settings, _state.stage = None, ""
    typed = next((arg for arg in args if not arg.startswith("-")), "")
    _state.command = typed if typed in _COMMAND_NAMES else ""
    try:
        _configure_logging()
        # Not standalone: the command's return value is the exit status, and its failures come here.
        status = command().main(args, prog_name="calendly-elt", standalone_mode=False)
    except typer.Abort:  # Ctrl-C (click turns KeyboardInterrupt into Abort)
        _say_failed("interrupted")
        return 130
    except typer.TyperException as usage:  # a wrong command, option or value: click's message, on one line
        command_path = " ".join(arg for arg in args[:2] if not arg.startswith("-") and arg in _COMMAND_NAMES)
        message = " ".join(usage.format_message().replace("Value error, ", "").split())
        _say_failed(f"{message} (see `calendly-elt {command_path + ' ' if command_path else ''}--help`)")
        return usage.exit_code
    except Exception as exc:  # noqa: BLE001 – the one place that turns failures into a message
        _fail(exc)
        return 1
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
