from datetime import datetime, timedelta, timezone

from pipelines.calendly.helpers import event_fingerprint, in_no_show_window, relist_from, uuid_from_uri

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def test_relist_from_first_run_is_all_history_or_the_start_date():
    assert relist_from(None, timedelta(days=7), None) is None
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert relist_from(None, timedelta(days=7), start) == start


def test_relist_from_later_runs_is_last_run_minus_lookback():
    assert relist_from("2026-11-21T12:00:00.000000Z", timedelta(days=7), None) == NOW - timedelta(days=7)
    late_start = NOW - timedelta(days=2)
    assert relist_from("2026-11-21T12:00:00.000000Z", timedelta(days=7), late_start) == late_start


def test_no_show_window_covers_events_that_ended_recently_only():
    def ended(delta):
        return {"end_time": (NOW - delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    window = timedelta(days=7)
    assert in_no_show_window(ended(timedelta(hours=1)), NOW, window)
    assert in_no_show_window(ended(timedelta(days=6, hours=23)), NOW, window)
    assert not in_no_show_window(ended(timedelta(days=7, hours=1)), NOW, window)
    assert not in_no_show_window(ended(-timedelta(hours=1)), NOW, window)  # not over yet


def test_fingerprint_moves_with_invitee_changes_only():
    event = {"uri": "x", "updated_at": "t1", "status": "active",
             "invitees_counter": {"total": 2, "active": 2, "limit": 10}, "name": "Demo"}
    same = {**event, "name": "Renamed"}
    assert event_fingerprint(event) == event_fingerprint(same)
    assert event_fingerprint(event) != event_fingerprint({**event, "invitees_counter": {"total": 3, "active": 3}})
    assert event_fingerprint(event) != event_fingerprint({**event, "updated_at": "t2"})
    assert uuid_from_uri("https://api.calendly.com/scheduled_events/ABC") == "ABC"


def test_no_show_window_reaches_back_to_the_previous_run():
    """Runs 10 days apart: an event that ended 8 days ago ended after the previous run, so it is
    re-read once even though it is now outside the 7-day window."""
    ended = {"end_time": (NOW - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    window = timedelta(days=7)
    assert not in_no_show_window(ended, NOW, window)
    assert in_no_show_window(ended, NOW, window, previous_run=NOW - timedelta(days=10))
    assert not in_no_show_window(ended, NOW, window, previous_run=NOW - timedelta(hours=1))
