"""Property: whatever arrives, the receiver answers below 500, and lands a row only when it says so."""

import json

from hypothesis import HealthCheck, given, settings, strategies as st
from starlette.testclient import TestClient

from pipelines.webhooks import LandingStore, sign
from pipelines.webhooks.app import SUPPORTED_EVENTS, create_app

from .conftest import KEY, NOW, Clock

MAX_BODY = 2_000

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)
_events = st.sampled_from(sorted(SUPPORTED_EVENTS)) | st.text(max_size=30)
_deliveries = st.builds(
    lambda event, payload, created_at, extra: json.dumps(
        {"event": event, "payload": payload, "created_at": created_at, **extra}).encode(),
    _events, st.dictionaries(st.text(max_size=10), _json, max_size=4), _json,
    st.dictionaries(st.text(max_size=10), _json, max_size=2))
_bodies = st.one_of(
    _deliveries,
    _json.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
    st.binary(min_size=MAX_BODY - 10, max_size=MAX_BODY + 100),  # around the cap
    st.text(max_size=200).map(str.encode),
)
# Header values as they could come off the wire: latin-1 text without control characters.
_header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=120)


@st.composite
def _requests(draw):
    body = draw(_bodies)
    kind = draw(st.sampled_from(["valid", "valid", "valid", "skewed", "other key", "random", "mutated", "none"]))
    if kind == "valid":
        header = sign(body, KEY, NOW + draw(st.integers(-5, 5)))
    elif kind == "skewed":
        header = sign(body, KEY, NOW + draw(st.integers(-400, 400)))
    elif kind == "other key":
        header = sign(body, draw(st.text(min_size=1, max_size=20)), NOW)
    elif kind == "random":
        header = draw(_header_text)
    elif kind == "mutated":  # a valid header with a few characters inserted, deleted or replaced
        header = sign(body, KEY, NOW)
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(header)))
            header = header[:i] + draw(st.text("t=v1,0123456789abcdef ", max_size=2)) + header[i + 1:]
    else:
        header = None
    headers = {} if header is None else {"Calendly-Webhook-Signature": header.encode("latin-1")}
    if draw(st.booleans()):
        headers["Content-Type"] = "application/json"
    if draw(st.integers(0, 3)) == 0:  # a Content-Length that may lie, or not be a number at all
        length = draw(st.integers(0, 10**30).map(str) | _header_text
                      | st.text("0123456789 ¹²³", min_size=1, max_size=6)  # digits to str.isdigit, not to int()
                      | st.integers(4_300, 5_000).map(lambda n: "9" * n))  # past int()'s digit limit
        headers["Content-Length"] = length.encode("latin-1")
    return body, headers


def test_fuzz_the_endpoint(tmp_path_factory):
    store = LandingStore(tmp_path_factory.mktemp("fuzz") / "landing.sqlite")
    app = create_app(KEY, store, clock=Clock(NOW), max_body_bytes=MAX_BODY)
    outcomes: dict[int, int] = {}

    with TestClient(app) as client:
        @settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
        @given(_requests(), st.booleans())
        def check(request, chunked):
            body, headers = request
            before = store.count()
            content = iter([body[: len(body) // 2], body[len(body) // 2:]]) if chunked else body
            response = client.post("/webhooks/calendly", content=content, headers=headers)
            assert response.status_code < 500, response.text
            outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
            landed = response.status_code == 200 and response.json().get("landed") is True
            assert store.count() == before + (1 if landed else 0)
            if response.status_code == 200:
                assert KEY not in response.text

        check()
    # The generator reaches every branch, not only the 401s.
    assert {200, 400, 401, 413} <= set(outcomes), outcomes
