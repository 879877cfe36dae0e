"""Behaviour of the Brevo sandbox (auth, attributes, folders and lists, asynchronous imports,
list membership, single contacts, the refused batch endpoint, rate limiting, faults) and its
contract: every response served in these tests is validated against Brevo's OpenAPI
description when the test ends, and every request the sandbox accepted against the spec too."""

import http.client
import json
import time
from urllib.parse import urlsplit

import pytest
import requests

from sandbox.brevo import BrevoAccount, BrevoSandbox

from .brevo_contract import validate_brevo_request, validate_brevo_response

KEY = "xkeysib-sandbox-0001"
RATE_HEADERS = ("x-sib-ratelimit-limit", "x-sib-ratelimit-remaining", "x-sib-ratelimit-reset")
UNAUTHORIZED = {"code": "unauthorized", "message": "Key not found"}


class Env:
    """A fresh account and sandbox; ``client()`` sessions record every response they get."""

    def __init__(self, **kw):
        account_kw = {k: kw.pop(k) for k in ("contact_limit_per_import_bytes",) if k in kw}
        self.account = BrevoAccount(api_key=KEY, **account_kw)
        kw.setdefault("rate_limit_per_second", None)
        kw.setdefault("events_rate_limit_per_second", None)
        kw.setdefault("import_seconds", 0.05)
        self.sandbox = BrevoSandbox(self.account, **kw).start()
        self.url = self.sandbox.url
        self.responses: list[tuple] = []  # (method, path under /v3, status, body)
        self.knob_answers: set[int] = set()  # indices in responses of answers a knob made off-spec on purpose
        self.s = self.client()

    def client(self, key: str | None = KEY) -> requests.Session:
        s = requests.Session()
        if key is not None:
            s.headers["api-key"] = key

        def record(r, *args, **kwargs):
            path = urlsplit(r.request.url).path
            if r.headers.get("x-sandbox-knob"):
                self.knob_answers.add(len(self.responses))
            self.responses.append((r.request.method, path[3:] if path.startswith("/v3/") else "/.." + path,
                                   r.status_code, r.content))
        s.hooks["response"].append(record)
        return s

    def wait_process(self, pid: int, timeout: float = 5) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            body = self.s.get(f"{self.url}/processes/{pid}").json()
            if body["status"] == "completed" or time.monotonic() > deadline:
                return body
            time.sleep(0.02)

    def import_(self, rows, list_ids, **options) -> int:
        r = self.s.post(f"{self.url}/contacts/import", json={"jsonBody": rows, "listIds": list_ids, **options})
        assert r.status_code == 202, r.text
        return r.json()["processId"]

    def folder_and_list(self, name="Calendly") -> int:
        folder = self.s.post(f"{self.url}/contacts/folders", json={"name": name}).json()["id"]
        return self.s.post(f"{self.url}/contacts/lists", json={"name": name, "folderId": folder}).json()["id"]

    def check_contract(self) -> None:
        served = [e for e in self.sandbox.request_log if e["status"] is not None]
        assert len(self.responses) == len(served), "a response was not recorded"
        for n, ((method, path, status, body), entry) in enumerate(zip(self.responses, served)):
            assert (method, path, status) == (entry["method"], entry["path"], entry["status"])
            if n in self.knob_answers:  # the answer is the knob's; what was asked must still be the spec's
                if 200 <= status < 300:
                    validate_brevo_request(method, path, entry["query"], entry["body"])
                continue
            if path.startswith("/../"):  # outside the API: Brevo's spec does not describe it
                assert status == 404 and json.loads(body)["code"] == "document_not_found"
                continue
            validate_brevo_response(method, path, status, body)
            if 200 <= status < 300:  # what the sandbox accepted, the spec accepts
                validate_brevo_request(method, path, entry["query"], entry["body"])


@pytest.fixture
def make_env():
    envs = []

    def make(**kw) -> Env:
        envs.append(Env(**kw))
        return envs[-1]
    yield make
    for env in envs:
        env.sandbox.stop()
    for env in envs:
        env.check_contract()


@pytest.fixture
def env(make_env) -> Env:
    return make_env()


# ---------------------------------------------------------------------------- auth & routing
def test_auth(env):
    for s in (env.client(None), env.client("xkeysib-wrong"), env.client("")):
        r = s.get(f"{env.url}/contacts/attributes")
        assert r.status_code == 401
        assert r.json() == UNAUTHORIZED
        assert all(h in r.headers for h in RATE_HEADERS)
    r = env.s.get(f"{env.url}/contacts/attributes")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    assert env.s.get(env.url.removesuffix("/v3") + "/contacts/attributes").status_code == 404
    assert env.s.get(f"{env.url}/no/such/route").status_code == 404
    assert env.s.patch(f"{env.url}/contacts/lists", json={}).status_code == 405  # no such method in Brevo


def test_account_details_need_the_key(env):
    """`GET /account`: the cheap read-only call `sync --dry-run` checks the key with."""
    r = env.s.get(f"{env.url}/account")
    assert r.status_code == 200 and r.json()["plan"][0]["type"] == "free" and "email" in r.json()
    for s in (env.client(None), env.client("xkeysib-wrong")):
        r = s.get(f"{env.url}/account")
        assert r.status_code == 401 and r.json() == UNAUTHORIZED
    assert env.s.post(f"{env.url}/account", json={}).status_code == 405
    assert env.sandbox.stats()["by_route"]["account"] == 3 and env.account.contacts() == {}


def test_keep_alive_and_stats(env):
    for _ in range(3):
        env.s.get(f"{env.url}/contacts/attributes")
    stats = env.sandbox.stats()
    assert stats["requests"] == 3 and stats["by_route"]["attributes_list"] == 3 and stats["by_status"] == {200: 3}
    assert set(stats["by_route"]) >= {"import", "process", "attributes_list", "attribute_create", "lists_list",
                                      "list_create", "folders_list", "folder_create", "list_add", "list_remove",
                                      "contact_create", "contact_update", "contact_get", "contact_delete", "batch",
                                      "unknown"}
    entry = env.sandbox.request_log[0]
    assert {k: entry[k] for k in ("method", "path", "query", "body", "status")} == \
        {"method": "GET", "path": "/contacts/attributes", "query": {}, "body": None, "status": 200}
    env.sandbox.reset_stats()
    assert env.sandbox.stats()["requests"] == 0 and env.sandbox.request_log == []
    env.responses.clear()
    # HTTP/1.1 keep-alive: one connection serves several requests, bodies included
    conn = http.client.HTTPConnection(env.sandbox.host, env.sandbox.port, timeout=5)
    try:
        for body in (b'{"name": "A"}', b'{"name": "B"}', None):
            conn.request("POST" if body else "GET", "/v3/contacts/folders", body=body,
                         headers={"api-key": KEY, "Content-Type": "application/json"})
            if conn.sock is not None:
                sock = conn.sock
            r = conn.getresponse()
            env.responses.append((("POST" if body else "GET"), "/contacts/folders", r.status, r.read()))
            assert r.status == (201 if body else 200) and not r.will_close and conn.sock is sock
    finally:
        conn.close()


# ---------------------------------------------------------------------------- attributes
def test_attributes(env):
    url = f"{env.url}/contacts/attributes"
    assert env.s.get(url).json() == {"attributes": [{"name": n, "category": "normal", "type": "text"}
                                                    for n in ("FIRSTNAME", "LASTNAME", "SMS")]}
    r = env.s.post(f"{url}/normal/booking_date", json={"type": "date"})
    assert r.status_code == 201 and r.content == b""
    assert env.s.post(f"{url}/normal/NO_SHOWS", json={"type": "float"}).status_code == 201
    dup = env.s.post(f"{url}/normal/Booking_Date", json={"type": "text"})
    assert dup.status_code == 400 and dup.json()["code"] == "duplicate_parameter"
    assert env.s.post(f"{url}/normal/X", json={"type": "colour"}).status_code == 400
    assert env.s.post(f"{url}/normal/1BAD", json={"type": "text"}).status_code == 400
    assert env.s.post(f"{url}/category/GENDER", json={"type": "text"}).status_code == 400
    assert env.account.attributes()["BOOKING_DATE"] == {"category": "normal", "type": "date"}
    names = [a["name"] for a in env.s.get(url).json()["attributes"]]
    assert names == ["FIRSTNAME", "LASTNAME", "SMS", "BOOKING_DATE", "NO_SHOWS"]


# ---------------------------------------------------------------------------- folders & lists
def test_folders_and_lists(env):
    folders = [env.s.post(f"{env.url}/contacts/folders", json={"name": f"F{i}"}).json()["id"] for i in range(12)]
    assert env.account.folders() == {fid: f"F{i}" for i, fid in enumerate(folders)}
    page = env.s.get(f"{env.url}/contacts/folders").json()
    assert page["count"] == 12 and [f["id"] for f in page["folders"]] == folders[::-1][:10]  # newest first
    page = env.s.get(f"{env.url}/contacts/folders", params={"limit": 5, "offset": 10, "sort": "asc"}).json()
    assert [f["id"] for f in page["folders"]] == folders[10:]
    assert env.s.post(f"{env.url}/contacts/folders", json={}).status_code == 400

    lists = [env.s.post(f"{env.url}/contacts/lists", json={"name": f"L{i}", "folderId": folders[i % 2]}).json()["id"]
             for i in range(55)]
    assert env.account.lists()[lists[3]] == {"name": "L3", "folderId": folders[1]}
    seen, offset = [], 0
    while True:
        page = env.s.get(f"{env.url}/contacts/lists", params={"limit": 50, "offset": offset}).json()
        assert page["count"] == 55
        if not page["lists"]:
            break
        seen += [li["id"] for li in page["lists"]]
        offset += 50
    assert sorted(seen) == lists
    for bad in (51, -1, "ten"):
        r = env.s.get(f"{env.url}/contacts/lists", params={"limit": bad})
        assert r.status_code == 400, bad
    assert env.s.get(f"{env.url}/contacts/folders", params={"limit": 51}).status_code == 400
    for body in ({"name": "x"}, {"folderId": folders[0]}, {"name": "x", "folderId": 999}, {"name": "x", "folderId": "1"}):
        assert env.s.post(f"{env.url}/contacts/lists", json=body).status_code == 400, body
    one = env.s.get(f"{env.url}/contacts/lists/{lists[0]}").json()
    assert (one["id"], one["name"], one["folderId"], one["totalSubscribers"]) == (lists[0], "L0", folders[0], 0)
    assert env.s.get(f"{env.url}/contacts/lists/9999").status_code == 404


# ---------------------------------------------------------------------------- imports
def test_import_is_asynchronous(make_env):
    env = make_env(import_seconds=0.6)
    lid = env.folder_and_list()
    pid = env.import_([{"email": "ann@example.com", "attributes": {"FIRSTNAME": "Ann"}}], [lid])
    assert env.s.get(f"{env.url}/processes/{pid}").json() == {
        "id": pid, "name": "IMPORTUSER", "status": "queued",
        "created_at": env.s.get(f"{env.url}/processes/{pid}").json()["created_at"]}
    assert env.account.contacts() == {} and env.account.processes()[pid]["status"] == "queued"
    assert env.s.get(f"{env.url}/contacts/ann%40example.com").status_code == 404
    time.sleep(0.4)
    assert env.s.get(f"{env.url}/processes/{pid}").json()["status"] == "processing"
    assert env.account.contacts() == {}
    done = env.wait_process(pid)
    assert done["status"] == "completed" and done["info"]["import"]["invalid_emails"] == 0
    assert env.account.contacts()["ann@example.com"]["attributes"] == {"FIRSTNAME": "Ann"}
    assert env.account.processes()[pid] == {"status": "completed", "imported": 1, "invalid_emails": [],
                                            "duplicate_sms": [], "dropped_attributes": {}}
    assert env.s.get(f"{env.url}/processes/{pid + 1}").status_code == 404
    assert env.sandbox.stats()["imported_rows"] == 1


def test_import_validation(make_env):
    env = make_env(contact_limit_per_import_bytes=2_000)
    lid = env.folder_and_list()
    url, row = f"{env.url}/contacts/import", {"email": "a@example.com"}
    for body in ({"jsonBody": [row]}, {"jsonBody": [row], "listIds": []}, {"jsonBody": [row], "listIds": [999]},
                 {"jsonBody": row, "listIds": [lid]}, {"listIds": [lid]}, {"jsonBody": [], "listIds": [lid]},
                 {"jsonBody": [row], "listIds": [lid], "updateExistingContacts": "yes"}):
        r = env.s.post(url, json=body)
        assert r.status_code == 400 and r.json()["code"] in ("missing_parameter", "invalid_parameter"), body
    rows = [{"email": f"user{i}@example.com", "attributes": {"FIRSTNAME": "x" * 20}} for i in range(40)]
    r = env.s.post(url, json={"jsonBody": rows, "listIds": [lid]})
    assert r.status_code == 400 and "file size exceeds" in r.json()["message"]
    r = env.s.post(url, json={"jsonBody": rows[:10], "listIds": [lid]})  # under the cap
    assert r.status_code == 202
    env.wait_process(r.json()["processId"])
    assert len(env.account.contacts()) == 10 and len(env.account.processes()) == 1


def test_import_upserts_case_insensitively(env):
    lid, other = env.folder_and_list(), env.folder_and_list("Other")
    env.wait_process(env.import_([{"email": "Ann@Example.COM", "attributes": {"FIRSTNAME": "Ann", "LASTNAME": "Lee"}}], [lid]))
    first = env.account.contacts()["ann@example.com"]
    env.wait_process(env.import_([{"email": "ann@example.com", "attributes": {"FIRSTNAME": "Anne"}}], [other]))
    contacts = env.account.contacts()
    assert list(contacts) == ["ann@example.com"]
    assert contacts["ann@example.com"] == {"id": first["id"], "attributes": {"FIRSTNAME": "Anne", "LASTNAME": "Lee"},
                                           "listIds": sorted([lid, other]), "sms": None}
    shown = env.s.get(f"{env.url}/contacts/ANN%40example.com").json()
    assert (shown["email"], shown["id"], shown["listIds"]) == ("ann@example.com", first["id"], sorted([lid, other]))
    # updateExistingContacts false: attributes kept, lists still joined
    third = env.folder_and_list("Third")
    env.wait_process(env.import_([{"email": "ann@example.com", "attributes": {"FIRSTNAME": "Zed"}}], [third],
                                 updateExistingContacts=False))
    assert env.account.contacts()["ann@example.com"]["attributes"]["FIRSTNAME"] == "Anne"
    assert third in env.account.contacts()["ann@example.com"]["listIds"]


def test_import_drops_silently_and_counts(env):
    lid = env.folder_and_list()
    for name, kind in (("BOOKED_ON", "date"), ("SCORE", "float"), ("NO_SHOW", "boolean")):
        env.s.post(f"{env.url}/contacts/attributes/normal/{name}", json={"type": kind})
    env.wait_process(env.import_([{"email": "holder@example.com", "attributes": {"SMS": "+33612345678"}}], [lid]))
    pid = env.import_([
        {"email": "good@example.com", "attributes": {"FIRSTNAME": "Good", "BOOKED_ON": "2025-06-02", "SCORE": 2.5,
                                                     "NO_SHOW": False, "SMS": "+4915112345678", "UNKNOWN": "x"}},
        {"email": "typed@example.com", "attributes": {"FIRSTNAME": 7, "BOOKED_ON": "02/06/2025", "SCORE": "2.5",
                                                      "NO_SHOW": "true", "SMS": "0612345678"}},
        {"email": "dup@example.com", "attributes": {"FIRSTNAME": "Dup", "SMS": "+33612345678"}},
        {"email": "dup2@example.com", "attributes": {"SMS": "+4915112345678"}},
        {"email": "not-an-email"}, {"email": "two@@example.com"}, {"attributes": {"FIRSTNAME": "No email"}},
        {"email": "bad-date@example.com", "attributes": {"BOOKED_ON": "2025-02-30"}},
    ], [lid])
    process = env.wait_process(pid)
    assert process["info"]["import"] == {"invalid_emails": 3, "duplicate_phone_id": 2}
    report = env.account.processes()[pid]
    assert report["imported"] == 5 and report["invalid_emails"] == ["not-an-email", "two@@example.com", ""]
    assert report["duplicate_sms"] == ["dup@example.com", "dup2@example.com"]
    assert report["dropped_attributes"] == {
        "good@example.com": {"UNKNOWN": "unknown attribute"},
        "typed@example.com": {"FIRSTNAME": "not a string", "BOOKED_ON": "not a YYYY-MM-DD date",
                              "SCORE": "not a number", "NO_SHOW": "not a boolean",
                              "SMS": "not an international number (+<digits>)"},
        "bad-date@example.com": {"BOOKED_ON": "not a YYYY-MM-DD date"}}
    contacts = env.account.contacts()
    assert contacts["good@example.com"]["attributes"] == {"FIRSTNAME": "Good", "BOOKED_ON": "2025-06-02", "SCORE": 2.5,
                                                          "NO_SHOW": False, "SMS": "+4915112345678"}
    assert contacts["good@example.com"]["sms"] == "+4915112345678"
    assert contacts["typed@example.com"] == {"id": contacts["typed@example.com"]["id"], "attributes": {},
                                             "listIds": [lid], "sms": None}
    assert contacts["dup@example.com"]["sms"] is None and contacts["dup@example.com"]["attributes"] == {"FIRSTNAME": "Dup"}
    assert contacts["holder@example.com"]["sms"] == "+33612345678"
    assert env.s.get(f"{env.url}/contacts/good%40example.com").json()["attributes"]["SMS"] == "+4915112345678"


def test_empty_contacts_attributes(env):
    lid = env.folder_and_list()
    full = {"FIRSTNAME": "Ann", "LASTNAME": "Lee", "SMS": "+33612345678"}
    env.wait_process(env.import_([{"email": "ann@example.com", "attributes": full},
                                  {"email": "bob@example.com", "attributes": {"FIRSTNAME": "Bob", "LASTNAME": "Ray"}}], [lid]))
    # default (false): null, blank and absent values erase nothing
    env.wait_process(env.import_([{"email": "ann@example.com", "attributes": {"FIRSTNAME": None, "LASTNAME": " "}},
                                  {"email": "bob@example.com", "attributes": {"SMS": None}}], [lid]))
    assert env.account.contacts()["ann@example.com"]["attributes"] == full
    assert env.account.contacts()["ann@example.com"]["sms"] == "+33612345678"
    # true: a null, blank or missing value in a column of the import erases; other attributes stay
    env.wait_process(env.import_([{"email": "ann@example.com", "attributes": {"FIRSTNAME": None, "SMS": ""}},
                                  {"email": "bob@example.com", "attributes": {"SMS": "+4915112345678"}}], [lid],
                                 emptyContactsAttributes=True))
    contacts = env.account.contacts()
    assert contacts["ann@example.com"]["attributes"] == {"LASTNAME": "Lee"} and contacts["ann@example.com"]["sms"] is None
    # FIRSTNAME was a column, bob had none
    assert contacts["bob@example.com"]["attributes"] == {"LASTNAME": "Ray", "SMS": "+4915112345678"}
    assert contacts["bob@example.com"]["sms"] == "+4915112345678"


# ---------------------------------------------------------------------------- list membership
def test_list_add_and_remove(env):
    lid = env.folder_and_list()
    other = env.folder_and_list("Other")
    emails = [f"u{i}@example.com" for i in range(160)]
    env.wait_process(env.import_([{"email": e} for e in emails], [other]))
    add, remove = f"{env.url}/contacts/lists/{lid}/contacts/add", f"{env.url}/contacts/lists/{lid}/contacts/remove"
    r = env.s.post(add, json={"emails": emails[:150]})
    assert r.status_code == 201 and r.json() == {"contacts": {"success": emails[:150], "failure": []}}
    r = env.s.post(add, json={"emails": emails})
    assert r.status_code == 400 and r.json()["code"] == "out_of_range"
    r = env.s.post(add, json={"emails": [emails[0].upper(), emails[150], "nobody@example.com"]})
    assert r.json() == {"contacts": {"success": [emails[150]], "failure": [emails[0], "nobody@example.com"]}}
    r = env.s.post(add, json={"emails": [emails[0]]})  # nothing to do: Brevo answers 400
    assert r.status_code == 400 and r.json()["message"] == "Contact already in list and/or does not exist"
    r = env.s.post(remove, json={"emails": emails[:2] + ["nobody@example.com"]})
    assert r.status_code == 201 and r.json() == {"contacts": {"success": emails[:2], "failure": ["nobody@example.com"]}}
    assert env.s.post(remove, json={"emails": emails[:2]}).status_code == 400
    ids = [env.account.contacts()[e]["id"] for e in emails[:2]]
    assert env.s.post(add, json={"ids": ids}).json() == {"contacts": {"success": ids, "failure": []}}
    assert env.s.post(f"{env.url}/contacts/lists/999/contacts/add", json={"emails": emails[:1]}).status_code == 404
    assert env.s.post(add, json={"emails": []}).status_code == 400
    members = {e for e, c in env.account.contacts().items() if lid in c["listIds"]}
    assert members == set(emails[:151])
    assert env.s.get(f"{env.url}/contacts/lists/{lid}").json()["totalSubscribers"] == 151


# ---------------------------------------------------------------------------- single contacts
def test_contacts(env):
    lid = env.folder_and_list()
    url = f"{env.url}/contacts"
    r = env.s.post(url, json={"email": "Cat@Example.com", "attributes": {"FIRSTNAME": "Cat", "NOPE": 1, "SMS": "+33611111111"},
                              "listIds": [lid]})
    assert r.status_code == 201
    cid = r.json()["id"]
    r = env.s.post(url, json={"email": "cat@example.com"})
    assert r.status_code == 400 and r.json() == {
        "code": "duplicate_parameter", "message": "Unable to create contact, email is already associated with another Contact",
        "metadata": {"duplicate_identifiers": ["email"]}}
    r = env.s.post(url, json={"email": "cat@example.com", "updateEnabled": True, "attributes": {"LASTNAME": "Tabby"}})
    assert r.status_code == 204 and r.content == b""
    for body in ({"email": "dog@example.com", "attributes": {"SMS": "+33611111111"}},
                 {"email": "dog@example.com", "attributes": {"SMS": "0611"}}, {"email": "not-an-email"}, {},
                 {"email": "dog@example.com", "listIds": [999]}):
        assert env.s.post(url, json=body).status_code == 400, body
    assert env.s.put(f"{url}/cat%40example.com", json={"attributes": {"FIRSTNAME": "Kat"}, "unlinkListIds": [lid]}).status_code == 204
    assert env.s.put(f"{url}/nobody%40example.com", json={"attributes": {}}).status_code == 404
    got = env.s.get(f"{url}/CAT%40example.com").json()
    assert (got["id"], got["email"], got["listIds"]) == (cid, "cat@example.com", [])
    assert got["attributes"] == {"FIRSTNAME": "Kat", "LASTNAME": "Tabby", "SMS": "+33611111111"}
    assert env.s.get(f"{url}/{cid}").json()["email"] == "cat@example.com"
    assert env.s.get(f"{url}/%2B33611111111").json()["id"] == cid
    assert env.s.get(f"{url}/nobody%40example.com").status_code == 404
    assert env.account.contacts() == {"cat@example.com": {
        "id": cid, "attributes": {"FIRSTNAME": "Kat", "LASTNAME": "Tabby", "SMS": "+33611111111"}, "listIds": [],
        "sms": "+33611111111"}}


def test_batch_is_refused(env):
    r = env.s.post(f"{env.url}/contacts/batch", json={"contacts": [{"email": "a@example.com"}]})
    assert r.status_code == 400
    assert r.json() == {"code": "method_not_allowed",
                        "message": "POST /contacts/batch is deprecated since 2026-10-30; use POST /contacts/import"}
    assert env.account.contacts() == {} and env.sandbox.stats()["by_route"]["batch"] == 1


# ---------------------------------------------------------------------------- rate limit & faults
def test_rate_limit(make_env):
    env = make_env(rate_limit_per_second=3)
    url = f"{env.url}/contacts/attributes"
    # start right after a window boundary of the limiter: the first request opens the window
    got = [env.s.get(url) for _ in range(4)]
    assert [r.status_code for r in got] == [200, 200, 200, 429]
    assert [r.headers["x-sib-ratelimit-remaining"] for r in got] == ["2", "1", "0", "0"]
    assert all(r.headers["x-sib-ratelimit-limit"] == "3" and r.headers["x-sib-ratelimit-reset"] == "1" for r in got)
    assert got[3].json()["code"] == "too_many_requests"
    assert env.client("other-key").get(url).status_code == 401  # limits are per key: not 429
    time.sleep(1.05)
    r = env.s.get(url)
    assert r.status_code == 200 and r.headers["x-sib-ratelimit-remaining"] == "2"
    env.sandbox.configure(rate_limit_per_second=None)
    r = env.s.get(url)
    assert r.status_code == 200 and int(r.headers["x-sib-ratelimit-limit"]) >= 1000


def test_faults(make_env):
    env = make_env(fault_rate=1.0, fault_seed=3, import_seconds=0.05)
    seen = set()
    for _ in range(12):
        try:
            seen.add(env.s.get(f"{env.url}/contacts/attributes").status_code)
        except requests.ConnectionError:
            seen.add("reset")
    assert "reset" in seen and seen - {"reset"} and seen <= {500, 502, 503, "reset"}
    for _ in range(6):  # a faulted import is never applied
        try:
            r = env.s.post(f"{env.url}/contacts/import", json={"jsonBody": [{"email": "a@example.com"}], "listIds": [1]})
            assert r.status_code in (500, 502, 503)
        except requests.ConnectionError:
            pass
    time.sleep(0.2)
    assert env.account.contacts() == {} and env.account.processes() == {}
    assert env.sandbox.stats()["resets"] >= 1 and env.sandbox.stats()["imported_rows"] == 0
    env.sandbox.configure(fault_rate=0.0)
    assert env.s.get(f"{env.url}/contacts/attributes").status_code == 200


def test_stop_applies_accepted_imports(make_env):
    env = make_env(import_seconds=30)
    lid = env.folder_and_list()
    pid = env.import_([{"email": "late@example.com"}], [lid])
    started = time.monotonic()
    env.sandbox.stop()
    assert time.monotonic() - started < 2
    assert list(env.account.contacts()) == ["late@example.com"]
    assert env.account.processes()[pid]["status"] == "completed"


# ---------------------------------------------------------------------------- contract helpers
def test_contract_helpers_accept_and_reject():
    good = json.dumps({"jsonBody": [{"email": "a@example.com", "attributes": {"FIRSTNAME": "A"}}], "listIds": [2]}).encode()
    validate_brevo_request("POST", "/contacts/import", {}, good)
    validate_brevo_request("GET", "/contacts/lists", {"limit": "50", "offset": "0"}, None)
    validate_brevo_request("POST", "/contacts/lists/2/contacts/add", {}, json.dumps({"emails": ["a@example.com"]}).encode())
    bad_requests = [
        ("POST", "/contacts/import", {}, json.dumps({"jsonBody": {"email": "a@example.com"}, "listIds": [2]}).encode()),
        ("POST", "/contacts/import", {}, json.dumps({"jsonBody": [], "listIds": ["two"]}).encode()),
        ("GET", "/contacts/lists", {"limit": "51"}, None),
        ("POST", "/contacts/lists/2/contacts/add", {}, json.dumps({"emails": ["a@example.com"] * 151}).encode()),
        ("POST", "/contacts/lists", {}, json.dumps({"name": "no folder"}).encode()),
    ]
    for method, path, query, body in bad_requests:
        with pytest.raises(Exception):
            validate_brevo_request(method, path, query, body)
    with pytest.raises(Exception):  # no api-key header
        validate_brevo_request("GET", "/contacts/attributes", {}, None, headers={})
    with pytest.raises(Exception):
        validate_brevo_response("POST", "/contacts/import", 202, b'{"processId": "7"}')
    with pytest.raises(Exception):
        validate_brevo_response("GET", "/contacts/lists", 200, b'{"count": 1, "lists": [{"id": 1, "name": "x"}]}')
    with pytest.raises(Exception):  # an undeclared success status
        validate_brevo_response("GET", "/contacts/attributes", 203, b'{"attributes": []}')
    assert validate_brevo_response("GET", "/processes/1", 429, b'{"code":"too_many_requests","message":"slow down"}')
