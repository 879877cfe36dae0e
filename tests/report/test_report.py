"""The scheduling report end to end: a sandbox warehouse (extract + transform), then build_report and
`calendly-elt report`. Key numbers are checked against SQL on marts.bookings, computed independently
of the scheduling marts the report reads."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from bisect import bisect_right
from pathlib import Path

import duckdb
import pytest

from pipelines.config import PROJECT_ROOT
from pipelines.report import ReportError, build_report
from tests.sync.conftest import Stack

CHARTS = 6  # bookings per week, rates by event type, rates by week, lead times, weekday × hour, UTM
SCHEDULING_MARTS = ("scheduling_event_types_weekly", "scheduling_lead_times", "scheduling_weekday_hour",
                    "scheduling_utm")
LEAD_TIME_BOUNDS = (1, 4, 24, 72, 168, 336, 672)  # hours; a bucket includes its lower bound
LEAD_TIME_BUCKETS = ("< 1 h", "1–4 h", "4–24 h", "1–3 d", "3–7 d", "1–2 w", "2–4 w", "≥ 4 w")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    stack = Stack(tmp_path_factory.mktemp("report"), events=300, seed=71)
    try:
        stack.refresh()  # extract + transform, as in tests/sync
    finally:
        stack.stop()
    return stack.settings.warehouse_path


@pytest.fixture(scope="module")
def report(warehouse, tmp_path_factory):
    return build_report(warehouse, tmp_path_factory.mktemp("out") / "reports")


@pytest.fixture(scope="module")
def truth(warehouse) -> dict[str, object]:
    """The key numbers, straight from marts.bookings."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        n, completed, booked, cancelled, rescheduled, no_show = con.execute("""
            select count(*), count(*) filter (where booking_status = 'completed'),
                   count(*) filter (where booking_status = 'booked'),
                   count(*) filter (where booking_status = 'cancelled'),
                   count(*) filter (where booking_status = 'rescheduled'),
                   count(*) filter (where booking_status = 'no_show')
            from marts.bookings""").fetchone()
        known = con.execute("select count(*) from marts.bookings where lead_time_hours is not null").fetchone()[0]
        middle = con.execute("select lead_time_hours from marts.bookings where lead_time_hours is not null "
                             "order by lead_time_hours limit 1 offset ?", [(known + 1) // 2 - 1]).fetchone()[0]
        weekday, hour = con.execute("""
            select isodow(start_time_local), hour(start_time_local) from marts.bookings
            group by 1, 2 order by count(*) desc, 1, 2 limit 1""").fetchone()
        source = con.execute("select utm_source from marts.bookings where utm_source is not null "
                             "group by 1 order by count(*) desc, 1 limit 1").fetchone()[0]
        weeks = con.execute("""
            select (max(week) - min(week)) // 7 + 1 from (
                select cast(date_trunc('week', start_time at time zone 'UTC') as date) as week
                from marts.bookings)""").fetchone()[0]
    return {
        "bookings": n, "completed": completed, "upcoming": booked,
        "cancellation_rate": cancelled / n, "reschedule_rate": rescheduled / n, "no_show_rate": no_show / n,
        "show_up_rate": completed / (completed + no_show),
        "median_lead_time": LEAD_TIME_BUCKETS[bisect_right(LEAD_TIME_BOUNDS, middle)],
        "busiest_weekday_hour": f"{WEEKDAYS[weekday - 1]} {hour:02d}:00–{(hour + 1) % 24:02d}:00",
        "top_utm_source": source, "weeks_covered": weeks,
    }


def _copy(warehouse: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    return copy


def _cli(*args: str, warehouse: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "WAREHOUSE_PATH": str(warehouse)}
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "report", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_page_has_one_svg_per_chart_and_fetches_nothing(report):
    page = report.path.read_text(encoding="utf-8")
    assert report.path.name == "scheduling_report.html"
    assert page.count("<svg") == CHARTS
    assert 'class="no-data"' not in page
    for external in ("<script", "<link", "<img", "src=", "@import", "url(http"):
        assert external not in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # charts share no element id
    assert [p.name for p in report.path.parent.iterdir()] == [report.path.name]  # no temp file left


def test_key_numbers_match_sql_on_bookings(report, truth):
    numbers = report.key_numbers
    for key, expected in truth.items():
        if isinstance(expected, float):
            assert numbers[key] == pytest.approx(expected), key
        else:
            assert numbers[key] == expected, key
    assert numbers["bookings"] > 100 and 0 < numbers["cancellation_rate"] < 1 and 0 < numbers["no_show_rate"] < 1


def test_markdown_table_shows_the_key_numbers_for_people(report, truth):
    table = report.markdown()
    assert table.splitlines()[:2] == ["| metric | value |", "|---|---|"]
    assert f"| bookings | {truth['bookings']:,} |" in table
    assert f"| cancellation rate | {truth['cancellation_rate']:.1%} |" in table
    assert f"| no-show rate | {truth['no_show_rate']:.1%} |" in table
    assert f"| top UTM source | {truth['top_utm_source']} |" in table
    page = report.path.read_text(encoding="utf-8")
    assert f"{truth['cancellation_rate']:.1%}" in page and f"{truth['bookings']:,}" in page


def test_the_warehouse_is_not_held_open_afterwards(report, warehouse):
    with duckdb.connect(str(warehouse)) as con:  # read-write: fails if this process still holds it
        assert con.execute("select count(*) from marts.bookings").fetchone()[0] == report.key_numbers["bookings"]


def test_empty_marts_give_a_page_with_no_data_notes(warehouse, tmp_path):
    empty = _copy(warehouse, tmp_path)
    with duckdb.connect(str(empty)) as con:
        for mart in SCHEDULING_MARTS:
            con.execute(f"delete from marts.{mart}")
    report = build_report(empty, tmp_path / "out")
    page = report.path.read_text(encoding="utf-8")
    assert "<svg" not in page
    assert page.count('class="no-data"') == 5  # one per section
    assert report.key_numbers["bookings"] == 0 and report.key_numbers["cancellation_rate"] is None
    assert "| cancellation rate | – |" in report.markdown()


def test_strings_from_the_data_are_escaped(warehouse, tmp_path):
    tampered = _copy(warehouse, tmp_path)
    with duckdb.connect(str(tampered)) as con:
        con.execute("update marts.scheduling_event_types_weekly set event_type_name = '<i>Demo</i> & $5 off' "
                    "where event_type_name = (select min(event_type_name) from marts.scheduling_event_types_weekly)")
        con.execute("update marts.scheduling_utm set utm_campaign = '<script>x()</script>' "
                    "where utm_key = (select min(utm_key) from marts.scheduling_utm)")
    page = build_report(tampered, tmp_path / "out").path.read_text(encoding="utf-8")
    assert "<i>Demo</i>" not in page and "<script>" not in page
    assert "&lt;i&gt;Demo&lt;/i&gt; &amp; $5 off" in page and "&lt;script&gt;x()&lt;/script&gt;" in page
    assert page.count("<svg") == CHARTS  # a '$' is not taken for mathtext


def test_missing_marts_say_to_run_transform(tmp_path):
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    with pytest.raises(ReportError, match="run `calendly-elt transform` first"):
        build_report(bare, tmp_path / "out")
    with pytest.raises(ReportError, match="no warehouse at"):
        build_report(tmp_path / "nowhere.duckdb", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_report_writes_beside_the_warehouse_and_prints_the_numbers(warehouse, tmp_path, truth):
    copy = _copy(warehouse, tmp_path)
    result = _cli(warehouse=copy)
    assert result.returncode == 0, result.stderr
    page = tmp_path / "reports" / "scheduling_report.html"
    assert result.stdout.splitlines()[0] == f"report: {page}"
    assert page.is_file()
    assert f"| bookings | {truth['bookings']:,} |" in result.stdout


def test_cli_report_without_marts_fails_with_one_line(tmp_path):
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    result = _cli("--out", str(tmp_path / "out"), warehouse=bare)
    assert result.returncode != 0
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("calendly-elt report: ") and "calendly-elt transform" in result.stderr
