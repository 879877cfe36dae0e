"""`calendly-elt`: the command line. Every command exits non-zero with a one-line reason on failure."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Sequence

from .config import PROJECT_ROOT, Settings, dlt_telemetry_off_by_default
from .errors import BREVO, CALENDLY, describe
from .progress import Progress

DEMO_WAREHOUSE = PROJECT_ROOT / "data" / "demo" / "warehouse.duckdb"
# The sandbox's account profiles (PROFILES in sandbox/calendly/shapes.py; a test keeps the two equal), written
# out so that building the parser imports nothing of the sandbox: the pipeline never imports it.
SANDBOX_PROFILES = ("empty", "solo", "team", "enterprise", "messy")


def _source_options(args: argparse.Namespace) -> dict:
    options = {
        "start_date": args.start_date,
        "lookback_days": args.lookback_days,
        "no_show_window_days": args.no_show_window_days,
        "max_workers": args.max_workers,
    }
    # Unset options stay unset, so dlt's own config (SOURCES__CALENDLY__...) and defaults apply.
    return {k: v for k, v in options.items() if v is not None}


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    from .extract import run_extract

    summary = run_extract(settings, Progress("extract"), webhooks_only=args.webhooks_only, **_source_options(args))
    print(summary.line())
    for table, rows in sorted(summary.rows_loaded.items()):
        print(f"  {table}: {rows:,} rows")
    print(f"warehouse: {settings.warehouse.name}")
    return 0


def cmd_transform(args: argparse.Namespace, settings: Settings) -> int:
    from .transform import run_transform

    summary = run_transform(settings, Progress("transform"), as_of=args.as_of, select=args.select)
    print(summary.line())
    print(f"warehouse: {settings.warehouse.name} (schemas staging, marts)")
    return 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from .brevo.sync import run_sync

    summary = run_sync(settings, Progress("sync"), dry_run=args.dry_run)
    print(summary.line())
    if args.dry_run:
        for contact in summary.samples:
            print(f"  {contact.email}: lists {', '.join(contact.lists)}; {json.dumps(contact.attributes, default=str)}"
                  + (f"  ({'; '.join(contact.notes)})" if contact.notes else ""))
    return 1 if summary.failed else 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from .report import ReportError, build_report

    out_dir = Path(args.out).expanduser().resolve() if args.out else settings.reports_dir
    try:
        report = build_report(settings.warehouse, out_dir)
    except ReportError as exc:  # already one line saying what to do
        print(f"calendly-elt report: {exc}", file=sys.stderr)
        return 1
    print(f"report: {report.path}")
    print(report.markdown())
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Every stage, in order. A failed extract or transform stops the run; after them, as in the
    Dagster job, the snapshot, the report and the Brevo sync do not depend on one another."""
    from .brevo.sync import run_sync
    from .extract import run_extract
    from .report import ReportError, build_report
    from .snapshot import publish
    from .transform import run_transform

    print(run_extract(settings, Progress("extract")).line())
    print(run_transform(settings, Progress("transform")).line())
    print(publish(settings).line())
    status = 0
    try:
        print(f"report: {build_report(settings.warehouse, settings.reports_dir).path}")
    except ReportError as exc:
        print(f"calendly-elt run: {exc}", file=sys.stderr)
        status = 1
    if not settings.brevo_api_key:
        print("sync: skipped – BREVO_API_KEY is not set")
        return status
    args.stage = "sync"  # a failure from here on is Brevo's (see main)
    summary = run_sync(settings, Progress("sync"))
    print(summary.line())
    return 1 if summary.failed else status


def cmd_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    from sandbox.stack import start_sandboxes

    with start_sandboxes(args.profile, events=args.events, seed=args.seed, calendly_port=args.port,
                         brevo_port=args.brevo_port, rate_limit=args.rate_limit, fault_rate=args.fault_rate,
                         latency_ms=args.latency_ms) as sandboxes:
        limit = f"{sandboxes.rate_limit:,} requests/minute" if sandboxes.rate_limit else "no rate limit"
        print(f"Calendly sandbox: {sandboxes.calendly.url} (profile {args.profile}: {sandboxes.events:,} events, "
              f"seed {args.seed}, {limit})")
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


def cmd_webhooks_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Receive signed Calendly webhooks into the landing store beside the warehouse, until Ctrl-C."""
    from .webhooks import landing_path
    from .webhooks.serve import serve
    from .webhooks.subscriptions import signing_key

    def listening(url: str, store) -> None:
        print(f"webhooks: POST {url} → {store.path}", flush=True)
        print("Ctrl-C stops it.", flush=True)

    serve(signing_key(settings), landing_path(settings), host=args.host, port=args.port,
          tolerance_seconds=args.tolerance_seconds, max_body_bytes=args.max_body_bytes, on_listening=listening)
    return 0


def _subscriptions(args: argparse.Namespace, settings: Settings, action):
    """Run `action(Subscriptions)`; its SubscriptionError is the one line to print."""
    from .webhooks.subscriptions import SubscriptionError, Subscriptions, client_for

    try:
        return action(Subscriptions(client_for(settings)))
    except SubscriptionError as exc:
        print(f"calendly-elt webhooks {args.webhooks_command}: {exc}", file=sys.stderr)
        return 1


def cmd_webhooks_subscribe(args: argparse.Namespace, settings: Settings) -> int:
    """Subscribe a URL to Calendly's webhooks, signed with CALENDLY_WEBHOOK_SIGNING_KEY."""
    from .webhooks.subscriptions import describe_subscription, signing_key

    key = signing_key(settings)  # before any request: a subscription the receiver cannot verify is useless

    def subscribe(subs) -> int:
        outcome = subs.subscribe(args.url, key, scope=args.scope, events=args.event)
        print(("subscribed: " if outcome.created else "already subscribed: ")
              + describe_subscription(outcome.subscription))
        return 0
    return _subscriptions(args, settings, subscribe)


def cmd_webhooks_list(args: argparse.Namespace, settings: Settings) -> int:
    from .webhooks.subscriptions import describe_subscription

    def show(subs) -> int:
        rows = subs.list(args.scope)
        for sub in rows:
            print(describe_subscription(sub))
        if not rows:
            print(f"no {args.scope}-scope webhook subscriptions")
        return 0
    return _subscriptions(args, settings, show)


def cmd_webhooks_delete(args: argparse.Namespace, settings: Settings) -> int:
    def delete(subs) -> int:
        print(f"deleted webhook subscription {subs.delete(args.subscription)}")
        return 0
    return _subscriptions(args, settings, delete)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """The whole job on the sandboxes (Calendly and Brevo), into a demo warehouse of its own."""
    from sandbox.stack import start_sandboxes

    from .brevo.sync import run_sync
    from .extract import raw_counts, run_extract
    from .report import ReportError, build_report
    from .transform import marts_counts, run_transform

    # A folder of its own: the demo's warehouse, dlt state and report never mix with a real account's.
    warehouse = Path(args.warehouse).resolve() if args.warehouse else DEMO_WAREHOUSE
    # Each demo generates a new sandbox account, so it starts from an empty demo warehouse.
    warehouse.unlink(missing_ok=True)
    shutil.rmtree(warehouse.parent / ".dlt" / warehouse.stem, ignore_errors=True)
    # No Calendly rate limit: the demo shows the pipeline in seconds (`calendly-elt sandbox` has the profile's).
    with start_sandboxes(args.profile, events=args.events, seed=args.seed, rate_limit=0, import_seconds=0.1,
                         brevo_api_key="xkeysib-demo-sandbox") as sandboxes:
        print(f"demo: Calendly sandbox with {sandboxes.events:,} events at {sandboxes.calendly.url}, "
              f"Brevo sandbox at {sandboxes.brevo.url}")
        env = sandboxes.env()
        demo_settings = settings.with_(calendly_token=env["CALENDLY_ACCESS_TOKEN"],
                                       calendly_api_url=env["CALENDLY_API_URL"], warehouse_path=warehouse,
                                       warehouse_url=None, brevo_api_key=env["BREVO_API_KEY"],
                                       brevo_api_url=env["BREVO_API_URL"])
        print(run_extract(demo_settings, Progress("extract")).line())
        tables, invitees = raw_counts(demo_settings)
        for table, n in tables.items():
            print(f"  calendly_raw.{table}: {n:,} rows")
        print("  invitees: " + (", ".join(f"{kind} {n:,}" for kind, n in invitees.items()) or "none"))
        print(run_transform(demo_settings, Progress("transform")).line())
        print(f"  {marts_counts(demo_settings).line()}")
        print(run_sync(demo_settings, Progress("sync")).line())
        lists = sandboxes.brevo_account.lists()
        names = ", ".join(sorted(v["name"] for v in lists.values()))
        print(f"  Brevo now holds {len(sandboxes.brevo_account.contacts()):,} contacts in {len(lists)} lists"
              + (f": {names}" if names else ""))
    try:
        report = build_report(warehouse, demo_settings.reports_dir)
    except ReportError as exc:
        print(f"calendly-elt demo: {exc}", file=sys.stderr)
        return 1
    print(f"report: {report.path}")
    print(f"warehouse: {warehouse}")
    print(f"  query it read-only: .venv/bin/python -c \"import duckdb; print(duckdb.connect('{warehouse}', "
          "read_only=True).sql('select booking_status, count(*) from marts.contacts group by 1'))\"")
    return 0


def cmd_auth_login(args: argparse.Namespace, settings: Settings) -> int:
    """Log in to Calendly in the browser (OAuth 2.0 + PKCE); the tokens then refresh themselves."""
    import webbrowser

    from .oauth import TokenStore, login

    store = TokenStore(settings.oauth_token_path)
    client = settings.oauth_client()

    def open_browser(url: str) -> None:
        print(f"Opening Calendly's login page; if no browser opens, visit:\n  {url}", flush=True)
        webbrowser.open(url)

    tokens = login(store, client, open_browser=open_browser, host=args.host, port=args.port, timeout=args.timeout)
    print(f"logged in as {tokens.owner}; tokens in {store.path} (mode 0600), refreshed before they expire")
    return 0


class _ProfilesHelp(argparse.HelpFormatter):
    """`calendly-elt sandbox --help` describes each profile, read from the sandbox when that help is shown."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.dest != "profile":
            return action.help
        from sandbox.calendly.shapes import PROFILES

        return f"{action.help}: " + ", ".join(f"{name} ({p.description})" for name, p in PROFILES.items())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="calendly-elt", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    extract = sub.add_parser("extract", help="load Calendly into calendly_raw (incremental)")
    extract.add_argument("--start-date", help="first run only: oldest event start to load (ISO date)")
    extract.add_argument("--lookback-days", type=float, help="re-list events from last run minus this (default 7)")
    extract.add_argument("--no-show-window-days", type=float,
                         help="re-read invitees of events that ended this recently (default 7)")
    extract.add_argument("--max-workers", type=int, help="concurrent invitee reads at most (default 8)")
    extract.add_argument("--webhooks-only", action="store_true",
                         help="merge only the webhook deliveries landed by `webhooks serve` (no listing)")
    extract.set_defaults(func=cmd_extract)

    transform = sub.add_parser("transform", help="dbt build: staging, marts and their tests")
    transform.add_argument("--as-of", help="pin 'now' for booking statuses (ISO timestamp), e.g. to rebuild history")
    transform.add_argument("--select", help="dbt node selection, e.g. 'contacts+' (default: everything)")
    transform.set_defaults(func=cmd_transform)

    sync = sub.add_parser("sync", help="push new and changed contacts to Brevo")
    sync.add_argument("--dry-run", action="store_true", help="count creates, updates and skips; send nothing")
    sync.set_defaults(func=cmd_sync)

    report = sub.add_parser("report", help="write the scheduling report (HTML with charts) from the marts")
    report.add_argument("--out", help="folder for scheduling_report.html (default: reports/ beside the warehouse)")
    report.set_defaults(func=cmd_report)

    run = sub.add_parser("run", help="extract, transform, snapshot, report and sync, in order")
    run.set_defaults(func=cmd_run)

    sandbox = sub.add_parser("sandbox", help="serve the Calendly and Brevo sandboxes on loopback",
                             formatter_class=_ProfilesHelp)
    sandbox.add_argument("--profile", choices=SANDBOX_PROFILES, default="team",
                         help="kind of Calendly account (default team)")
    sandbox.add_argument("--events", type=int, help="scheduled events (default: the profile's)")
    sandbox.add_argument("--seed", type=int, default=7)
    sandbox.add_argument("--port", type=int, default=8765, help="Calendly sandbox port")
    sandbox.add_argument("--brevo-port", type=int, default=8766, help="Brevo sandbox port")
    sandbox.add_argument("--rate-limit", type=int,
                         help="requests per minute per token (default: the profile's plan, 50 or 500; 0 = none)")
    sandbox.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail")
    sandbox.add_argument("--latency-ms", type=float, default=0.0)
    sandbox.set_defaults(func=cmd_sandbox)

    demo = sub.add_parser("demo", help="run the pipeline on the sandbox and print a summary")
    demo.add_argument("--profile", choices=SANDBOX_PROFILES, default="team",
                      help="kind of Calendly account (default team; see `sandbox --help`)")
    demo.add_argument("--events", type=int, help="scheduled events (default: the profile's)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--warehouse", help="demo warehouse file (default data/demo/warehouse.duckdb); "
                      "the report goes to reports/ beside it")
    demo.set_defaults(func=cmd_demo)

    webhooks = sub.add_parser("webhooks", help="Calendly webhooks: the signed receiver and the subscriptions")
    webhooks_sub = webhooks.add_subparsers(dest="webhooks_command", required=True)
    serve = webhooks_sub.add_parser("serve", help="receive signed deliveries into the landing store")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    serve.add_argument("--tolerance-seconds", type=float, default=180,
                       help="largest accepted age of a signature timestamp, either way (default 180)")
    serve.add_argument("--max-body-bytes", type=int, default=1_000_000,
                       help="larger deliveries are refused with 413 (default 1000000)")
    serve.set_defaults(func=cmd_webhooks_serve)
    from .webhooks.subscriptions import ORGANIZATION_EVENTS  # dlt is loaded already (via .config)

    subscribe = webhooks_sub.add_parser("subscribe", help="subscribe a URL to Calendly's webhooks "
                                        "(signed with CALENDLY_WEBHOOK_SIGNING_KEY)")
    subscribe.add_argument("--url", required=True, help="public HTTPS URL of `webhooks serve`'s /webhooks/calendly")
    subscribe.add_argument("--scope", choices=("organization", "user"), default="organization",
                           help="organization (default; needs an owner or admin token) or user (your own events)")
    subscribe.add_argument("--event", action="append", choices=ORGANIZATION_EVENTS, metavar="NAME",
                           help="an event to receive, repeatable (default: all of them; user scope: the invitee ones)")
    subscribe.set_defaults(func=cmd_webhooks_subscribe)
    listing = webhooks_sub.add_parser("list", help="list webhook subscriptions: uri, state, scope, url, events")
    listing.add_argument("--scope", choices=("organization", "user"), default="organization")
    listing.set_defaults(func=cmd_webhooks_list)
    delete = webhooks_sub.add_parser("delete", help="delete a webhook subscription")
    delete.add_argument("subscription", metavar="URI_OR_UUID")
    delete.set_defaults(func=cmd_webhooks_delete)

    auth = sub.add_parser("auth", help="Calendly OAuth: log in once; access tokens refresh themselves")
    auth_sub = auth.add_subparsers(dest="auth_command", required=True)
    auth_login = auth_sub.add_parser("login", help="log in to Calendly in the browser and store the OAuth tokens")
    auth_login.add_argument("--host", default="127.0.0.1", help="loopback address of the redirect URI")
    auth_login.add_argument("--port", type=int, default=0,
                            help="port of the redirect URI http://HOST:PORT/callback registered for the OAuth app "
                                 "(default 0: any free port)")
    auth_login.add_argument("--timeout", type=float, default=300,
                            help="seconds to wait for the browser to come back (default 300)")
    auth_login.set_defaults(func=cmd_auth_login)
    return parser


def _configure_logging() -> None:
    level = logging.getLevelName(Settings.from_env().log_level.upper())
    logging.basicConfig(level=level if isinstance(level, int) else logging.WARNING, format="%(message)s")
    # dlt phones home with anonymous usage data unless told not to; a pipeline that holds customer
    # data should not, and on a machine without internet it would only wait for time-outs.
    dlt_telemetry_off_by_default()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging()
    settings = Settings.from_env()
    try:
        return args.func(args, settings)
    except KeyboardInterrupt:
        print(f"calendly-elt {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 – the one place that turns failures into a message
        brevo = getattr(args, "stage", args.command) == "sync"
        reason = describe(exc, (settings.brevo_api_url or BREVO.default_url) if brevo else settings.calendly_api_url,
                          secrets=settings.secrets,
                          service=BREVO if brevo else CALENDLY)
        print(f"calendly-elt {args.command}: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
