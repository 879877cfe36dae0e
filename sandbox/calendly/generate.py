"""Deterministic generation of a Calendly account's history.

Everything comes from ``random.Random(seed)`` (plus, for the knobs of a :class:`~.shapes.Shape`,
a second RNG derived from the seed) and the ``now`` reference, so the same inputs give
byte-identical resources; nothing here reads the clock (``CalendlyAccount.generate`` does, only
when no ``now`` is given). Internally times are naive UTC datetimes; resources carry them as
Calendly formats them ("YYYY-MM-DDTHH:MM:SS.ffffffZ"), which also sorts lexicographically in
time order (the server relies on that for bisecting).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from . import quirks
from .shapes import Shape

BASE_URI = "https://api.calendly.com"
WEB = "https://calendly.com"

SLOT = timedelta(minutes=15)
DAY = timedelta(days=1)
# Business hours as UTC slots: 13:00-21:45 UTC is 9:00-17:45 on the US east coast,
# where the generated organisation sits.
FIRST_SLOT_MIN, SLOTS_PER_DAY = 13 * 60, 36
NO_SHOW_WINDOW = timedelta(days=7)


def ts(dt: datetime) -> str:
    return dt.isoformat(timespec="microseconds") + "Z"


_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID string from the seeded RNG (what str(uuid.UUID(int=n, version=4))
    gives, without the object: this runs ~100k times for a large account)."""
    h = f"{(rng.getrandbits(128) & _V4_CLEAR) | _V4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# --------------------------------------------------------------------------- vocabulary
FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
         "Richard Susan Joseph Jessica Thomas Sarah Carlos Maria Wei Mei Hiroshi Yuki Arjun "
         "Ananya Lukas Sofia Mateo Emma Noah Olivia Liam Ava Lucas Chloe Omar Fatima Ivan Elena "
         "Jane Pierre Amelie Kwame Ama Sven Ingrid Raj Leila Diego Camila").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
        "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Chen Wang Kim "
        "Tanaka Sato Patel Sharma Muller Schmidt Rossi Bianchi Dubois Moreau Silva Santos "
        "Kowalski Novak Ivanova Petrov Okafor Mensah Larsen Nilsen Doe O'Brien Nguyen Haddad").split()
COMPANIES = (
    ("Acme Corp", "acme.com"), ("Globex", "globex.io"), ("Initech", "initech.com"),
    ("Umbrella Health", "umbrella-health.com"), ("Stark Industries", "stark.io"),
    ("Wayne Enterprises", "wayne.co"), ("Hooli", "hooli.com"), ("Pied Piper", "piedpiper.com"),
    ("Vandelay Imports", "vandelay.com"), ("Soylent", "soylent.co"), ("Tyrell", "tyrell.ai"),
    ("Cyberdyne", "cyberdyne.net"), ("Aperture Labs", "aperture.org"), ("Monarch Solutions", "monarch.eu"),
    ("Blue Harbor", "blueharbor.com.au"), ("Kiwi Analytics", "kiwi-analytics.co.nz"),
    ("Nordlicht GmbH", "nordlicht.de"), ("Sakura Tech", "sakuratech.jp"),
)
FREEMAIL = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.co.uk", "icloud.com")
TITLES = ("CEO", "CTO", "Founder", "Head of Marketing", "Sales Manager", "VP Sales", "Operations Lead",
          "Software Engineer", "Recruiter", "Customer Success Manager", "Product Manager", "Consultant")
EMPLOYEES = ("1", "2-10", "11-50", "51-200", "201-1000", "1000+")
PRODUCTS = ("Scheduling", "Routing", "Workflows", "Analytics")
DISCUSS = ("Pricing for our team", "Migrating from another scheduling tool", "Salesforce integration",
           "Onboarding questions", "Just exploring", "Need help with:\n- routing\n- reporting",
           "Enterprise security review", "Renewal and seat count")
TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
             "America/Sao_Paulo", "America/Toronto", "Europe/London", "Europe/Berlin", "Europe/Paris",
             "Europe/Madrid", "Asia/Tokyo", "Asia/Kolkata", "Asia/Singapore", "Australia/Sydney",
             "Australia/Melbourne")
REASONS = ("Meeting conflict", "No longer needed", "Sick", "Found another solution",
           "Double booked, sorry!", "Host unavailable")
UTM = (("google", "cpc", "spring_launch"), ("linkedin", "social", "webinar_q3"),
       ("newsletter", "email", "monthly_digest"), ("facebook", "social", "retargeting"),
       ("partner", "referral", None))
HOSTS = (("Olivia Bennett", "America/New_York"), ("Marcus Reid", "America/Chicago"),
         ("Priya Nair", "America/Los_Angeles"), ("Tom Fischer", "Europe/London"),
         ("Aiko Tanaka", "America/Denver"), ("Sam Okoro", "America/New_York"))
ORG_DOMAIN = "northwind-scheduling.com"


def _phone(rng: random.Random) -> str:
    """A phone number in one of the formats invitees really type, a few unusable."""
    n = rng.randrange(100)
    x, y = rng.randrange(10, 100), rng.randrange(200, 990)
    if n < 3:
        return rng.choice(("12", "n/a", "555"))
    if n < 30:
        return f"+1 {y}-555-01{x}"
    if n < 45:
        return f"({y}) 555 01{x}"
    if n < 55:
        return f"{y}.555.01{x}"
    if n < 65:
        return f"{y}55501{x}"
    if n < 78:
        return f"020 7946 00{x}"
    if n < 90:
        return f"+44 20 7946 00{x}"
    return f"+61 2 5550 10{x}"


def _case_variant(email: str) -> str:
    """'jane.doe@example.com' -> 'Jane.Doe@Example.com', as people sometimes type it."""
    local, domain = email.split("@")
    return ".".join(p[:1].upper() + p[1:] for p in local.split(".")) + "@" + domain.capitalize()


def make_person(rng: random.Random, taken: set) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company, domain = rng.choice(COMPANIES)
    if rng.random() < 0.35:
        domain = rng.choice(FREEMAIL)
    slug_last = last.lower().replace("'", "")
    local = rng.choice((f"{first}.{slug_last}", f"{first[0]}{slug_last}", f"{first}")).lower()
    email, i = f"{local}@{domain}", 1
    while email in taken:  # distinct people never share an address
        i += 1
        email = f"{local}{i}@{domain}"
    taken.add(email)
    return {
        "first": first, "last": last, "email": email,
        "alt_email": _case_variant(email) if rng.random() < 0.2 else None,
        "timezone": rng.choice(TIMEZONES), "phone": _phone(rng), "company": company,
        "title": rng.choice(TITLES), "employees": rng.choice(EMPLOYEES),
        "sms": rng.random() < 0.15,
    }


def tracking(rng: random.Random, utm: bool = True) -> dict:
    """An invitee's tracking parameters; ``utm=False``: an account whose links never carry any."""
    t = dict.fromkeys(("utm_campaign", "utm_source", "utm_medium", "utm_content", "utm_term",
                       "salesforce_uuid"))
    if not utm or rng.random() < 0.45:
        return t  # most bookings come straight from the scheduling page
    source, medium, campaign = rng.choice(UTM)
    t.update(utm_source=source, utm_medium=medium, utm_campaign=campaign)
    if rng.random() < 0.3:
        t["utm_content"] = rng.choice(("banner_a", "banner_b", "footer_link"))
    if rng.random() < 0.2:
        t["utm_term"] = rng.choice(("calendly alternative", "meeting scheduler"))
    if rng.random() < 0.1:
        t["salesforce_uuid"] = f"0035{rng.getrandbits(56):014X}"
    return t


# --------------------------------------------------------------------------- configuration
def _q(name, qtype, required=True, choices=(), other=False):
    return {"name": name, "type": qtype, "required": required, "choices": list(choices), "other": other}


EVENT_TYPES = (
    # key, name, minutes, kind, pooling, kind_description, limit, host rule, weight, split name,
    # location kind, questions
    dict(key="intro", name="Intro Call", duration=15, kind="solo", pooling=None, kdesc="One-on-One",
         limit=1, hosts="member", weight=24, split=True, location="google_conference", color="#0069ff",
         questions=[_q("Company", "string"), _q("Role", "string", False), _q("Phone Number", "phone_number"),
                    _q("What would you like to discuss?", "text", False)]),
    dict(key="demo", name="Product Demo", duration=30, kind="solo", pooling=None, kdesc="One-on-One",
         limit=1, hosts="admin", weight=20, split=False, location="zoom_conference", color="#8247f5",
         questions=[_q("Company name", "string"), _q("Job title", "string"),
                    _q("Number of employees", "single_select", True, EMPLOYEES, True),
                    _q("Which products are you interested in?", "multi_select", False, PRODUCTS),
                    _q("Phone number", "phone_number", False)]),
    dict(key="discovery", name="Discovery Call", duration=30, kind="solo", pooling="round_robin",
         kdesc="Round Robin", limit=1, hosts="users", weight=20, split=True, location="outbound_call",
         color="#17e885", team="Sales Team",
         questions=[_q("Company name", "string"), _q("Job title", "string", False),
                    _q("Number of employees", "single_select", False, EMPLOYEES),
                    _q("What would you like to discuss?", "text", False)]),
    dict(key="strategy", name="Strategy Session", duration=60, kind="solo", pooling="collective",
         kdesc="Collective", limit=1, hosts="leaders", weight=6, split=False, location="physical",
         color="#ff4f00", team="Leadership",
         questions=[_q("Company", "string"), _q("Role", "string"), _q("Phone Number", "phone_number")]),
    dict(key="webinar", name="Group Webinar", duration=60, kind="group", pooling=None, kdesc="Group",
         limit=25, hosts="admin", weight=5, split=True, location="microsoft_teams_conference",
         color="#e55cff", questions=[_q("Company", "string"), _q("Job title", "string", False)]),
    dict(key="office", name="Office Hours", duration=30, kind="group", pooling=None, kdesc="Group",
         limit=10, hosts="member", weight=12, split=False, location="custom", color="#ffa600",
         questions=[_q("What would you like to discuss?", "text")]),
    dict(key="legacy", name="Legacy Consultation", duration=45, kind="solo", pooling=None,
         kdesc="One-on-One", limit=1, hosts="owner", weight=13, split=True, location="inbound_call",
         color="#a3a3a3", active=False,
         questions=[_q("Company", "string"), _q("Phone Number", "phone_number", False)]),
)
ROUTED_TYPES = ("intro", "demo", "discovery")
FORMS = (
    ("Inbound Lead Qualification", ("demo", "discovery"),
     [("Name", "name", True, None), ("Email", "email", True, None), ("Company", "text", True, None),
      ("How many employees?", "select", True, ["1-10", "11-50", "51-200", "201-1000", "1000+"]),
      ("Phone", "phone", False, None), ("What are you looking for?", "textarea", False, None)]),
    ("Partner Inquiry", ("intro",),
     [("Name", "name", True, None), ("Work email", "email", True, None),
      ("Partnership type", "radios", True, ["Reseller", "Technology", "Referral"]),
      ("Anything else?", "textarea", False, None)]),
)


# --------------------------------------------------------------------------- builders
def location(rng: random.Random, kind: str, phone: str | None = None) -> dict:
    code = str(rng.randrange(10**9, 10**10))
    if kind == "google_conference":
        return {"type": kind, "status": "pushed",
                "join_url": f"{WEB}/events/{new_uuid(rng)}/google_meet"}
    if kind == "zoom_conference":
        return {"type": kind, "status": "pushed", "join_url": f"https://us02web.zoom.us/j/{code}",
                "data": {"id": code, "password": str(rng.randrange(100000, 999999)),
                         "settings": {"global_dial_in_numbers": [
                             {"number": "+1 3126266799", "country": "US", "type": "toll",
                              "city": "Chicago", "country_name": "US"}]},
                         "extra": {"intl_numbers_url": "https://us02web.zoom.us/u/kb3Xq7"}}}
    if kind == "microsoft_teams_conference":
        return {"type": kind, "status": "pushed",
                "join_url": f"https://teams.microsoft.com/l/meetup-join/{code}",
                "data": {"id": code, "audioConferencing": None}}
    if kind == "outbound_call":
        return {"type": kind, "location": phone}
    if kind == "physical":
        return {"type": kind, "location": "Northwind HQ, 500 Market St, San Francisco"}
    if kind == "inbound_call":
        return {"type": kind, "location": "+1 415-555-0199"}
    return {"type": "custom", "location": "Office Hours room (link in the confirmation email)"}


def calendar_event(rng: random.Random) -> dict | None:
    if rng.random() < 0.3:
        return None
    return {"kind": rng.choice(("google", "google", "outlook", "exchange")),
            "external_id": f"{rng.getrandbits(104):026x}"}


def answers(rng: random.Random, questions: list, person: dict) -> list:
    """The invitee's answers to the type's questions; unanswered optional ones are omitted."""
    out = []
    for pos, q in enumerate(questions):
        if not q["required"] and rng.random() < 0.3:
            continue
        name = q["name"].lower()
        if q["type"] == "phone_number":
            a = person["phone"]
        elif q["type"] == "single_select":
            a = person["employees"] if q["choices"] == list(EMPLOYEES) else rng.choice(q["choices"])
        elif q["type"] == "multi_select":
            a = "\n".join(rng.sample(q["choices"], rng.randint(1, 2)))
        elif name.startswith("company"):
            a = person["company"] if rng.random() < 0.85 else person["company"].upper()
        elif name in ("role", "job title"):
            a = person["title"]
        else:
            a = rng.choice(DISCUSS)
        out.append({"question": q["name"], "answer": a, "position": pos})
    return out


def slot_time(rng: random.Random, lo: datetime, hi: datetime, duration: timedelta) -> datetime:
    """A 15-minute business-hours slot on a weekday with lo <= start and end <= hi."""
    for _ in range(50):
        day = lo + timedelta(seconds=rng.random() * max((hi - lo).total_seconds(), 1))
        day = datetime(day.year, day.month, day.day)
        if day.weekday() >= 5:
            continue
        start = day + timedelta(minutes=FIRST_SLOT_MIN + 15 * rng.randrange(SLOTS_PER_DAY))
        if lo <= start and start + duration <= hi:
            return start
    # narrow windows (a few hours): any 15-minute boundary inside
    start = lo + (-(lo - datetime(lo.year, lo.month, lo.day)) % SLOT)
    return start if start + duration <= hi else lo


def jitter(rng: random.Random, lo_s: float, hi_s: float) -> timedelta:
    return timedelta(microseconds=int((lo_s + rng.random() * (hi_s - lo_s)) * 1e6))


# --------------------------------------------------------------------------- the account
def generate(seed: int, n_events: int, now: datetime, past_days: int, future_days: int,
             shape: Shape | None = None) -> dict:
    """Build every table of the account. ``now`` is naive UTC. Returns plain data for
    :class:`CalendlyAccount` (resources exactly as served, plus the private metadata the
    mutations need)."""
    shape = shape or Shape()
    rng = random.Random(seed)
    # Knob decisions draw from a second RNG: the default shape draws from ``rng`` exactly what it
    # always did, and turning a knob leaves the rest of the account as it was wherever it can.
    krng = random.Random(seed * 1_000_003 + 29)
    window_start = now - timedelta(days=past_days)
    birth = window_start - timedelta(days=400)
    org_uri = f"{BASE_URI}/organizations/{new_uuid(rng)}"

    users, memberships, roles, tokens = _organization(rng, shape.hosts, org_uri, birth)
    admin_i = 1 if shape.hosts >= 3 else 0
    plain = [i for i, r in enumerate(roles) if r == "user"]
    # a solo owner hosts everything: there is no plain member
    host_rule = {"owner": [0], "admin": [admin_i], "member": [plain[0] if plain else 0], "users": plain or [0],
                 "leaders": sorted({0, admin_i})}
    defs = type_defs(shape)
    event_types, tmeta = _event_types(rng, defs, users, host_rule, admin_i, birth, window_start, now)
    specs = _schedule(rng, defs, tmeta, n_events, now, past_days, future_days)
    if shape.cancellations == "some":  # a reschedule cancels the old booking
        _reschedule_chains(rng, specs, tmeta, now)

    # ---- who books: a pool of people smaller than the bookings, each person at least once
    sizes = [_party_size(rng, tmeta[s["key"]]["def"], shape.group_size) for s in specs]
    bookings = sum(n for n, s in zip(sizes, specs) if s["role"] != "new")
    taken: set = set()
    persons = [make_person(rng, taken) for _ in range(max(5, round(bookings / 2.5)))]
    if shape.long_answers:
        quirks.roughen_people(krng, persons)
    draws = list(range(len(persons))) + [rng.randrange(len(persons))
                                         for _ in range(max(0, bookings - len(persons)))]
    rng.shuffle(draws)
    draws.reverse()  # pop() from the end

    events, invitees, person_of, built = [], {}, {}, {}
    for s, n_inv in zip(specs, sizes):
        meta = tmeta[s["key"]]
        d = meta["def"]
        start, dur = s["start"], timedelta(minutes=d["duration"])
        end = start + dur
        event_uri = f"{BASE_URI}/scheduled_events/{s['uuid']}"
        if d["pooling"] == "round_robin":
            hosts = [rng.choice(meta["hosts"])]
        else:
            hosts = list(meta["hosts"])
        rows = []
        for _ in range(n_inv):
            twin = built.get(s["partner"]["inv"]) if s["role"] else None  # other end of a reschedule
            if twin is not None:
                person = person_of[s["partner"]["inv"]]
            else:
                person = persons[draws.pop() if draws else rng.randrange(len(persons))]
            iu = s["inv"] if s["role"] else new_uuid(rng)
            person_of[iu] = person
            if s["role"]:
                booked = s["booked"]
            else:
                booked = start - jitter(rng, 600, 30 * 86400)
                if booked >= now:
                    booked = now - jitter(rng, 60, 5 * 86400)
            created = booked + jitter(rng, 0.005, 0.08)
            email = person["alt_email"] if person["alt_email"] and rng.random() < 0.4 else person["email"]
            inv = {
                "uri": f"{event_uri}/invitees/{iu}", "email": email,
                "first_name": person["first"] if d["split"] else None,
                "last_name": person["last"] if d["split"] else None,
                "name": f"{person['first']} {person['last']}", "status": "active",
                "questions_and_answers": answers(rng, d["questions"], person),
                "timezone": person["timezone"], "event": event_uri,
                "created_at": ts(created), "updated_at": None, "tracking": tracking(rng, shape.utm),
                "text_reminder_number": person["phone"] if person["sms"] else None,
                "rescheduled": False, "old_invitee": None, "new_invitee": None,
                "cancel_url": f"{WEB}/cancellations/{iu}", "reschedule_url": f"{WEB}/reschedulings/{iu}",
                "routing_form_submission": None, "payment": None, "no_show": None, "reconfirmation": None,
            }
            if shape.long_answers:
                quirks.roughen_answers(krng, d["questions"], inv["questions_and_answers"])
            if shape.null_timezones and krng.random() < shape.null_timezones:
                inv["timezone"] = None  # the booking page could not tell
            if shape.unknown_timezones and krng.random() < shape.unknown_timezones:
                inv["timezone"] = krng.choice(quirks.UNKNOWN_TIMEZONES)  # a string, but no zone anyone knows
            if twin is not None:  # a rescheduled booking keeps what the person entered
                for f in ("email", "first_name", "last_name", "name", "questions_and_answers", "timezone",
                          "tracking", "text_reminder_number"):
                    inv[f] = twin[f]
            built[iu] = inv
            updated = created + jitter(rng, 0.005, 0.04)
            # history of this booking
            canceled_at = None
            if s["role"] == "old":
                canceled_at = s["moved"]
                new_uri = f"{BASE_URI}/scheduled_events/{s['partner']['uuid']}/invitees/{s['partner']['inv']}"
                inv.update(rescheduled=True, new_invitee=new_uri, status="canceled",
                           cancellation={"canceled_by": inv["name"], "canceler_type": "invitee",
                                         "reason": rng.choice((None, "Need a different time",
                                                               "Something came up")),
                                         "created_at": ts(canceled_at)})
            elif shape.cancellations == "only" or (shape.cancellations == "some" and s["cat"] != "recent"):
                cap = 0.10 if d["kind"] != "group" else 0.08
                r = rng.random()
                if shape.cancellations == "only":
                    r *= cap  # everyone cancels; who cancels keeps the usual mix
                by_host = d["kind"] != "group" and 0.07 <= r < 0.10
                if r < cap:
                    canceled_at = created + (min(start, now) - created) * rng.random()
                    inv.update(status="canceled", cancellation={
                        "canceled_by": users_name(users, hosts[0]) if by_host else inv["name"],
                        "canceler_type": "host" if by_host else "invitee",
                        "reason": None if rng.random() < 0.35 else rng.choice(REASONS),
                        "created_at": ts(canceled_at)})
            if s["role"] == "new":
                inv["old_invitee"] = (f"{BASE_URI}/scheduled_events/{s['partner']['uuid']}"
                                      f"/invitees/{s['partner']['inv']}")
            if canceled_at is not None:
                updated = max(updated, canceled_at)
            elif shape.no_shows and end <= now and s["cat"] != "recent" and rng.random() < 0.05:
                shown_at = end + jitter(rng, 120, 2 * 86400)
                if shown_at >= now:
                    shown_at = end + (now - end) * rng.random()
                inv["no_show"] = {"uri": f"{BASE_URI}/invitee_no_shows/{new_uuid(rng)}",
                                  "created_at": ts(shown_at)}
                updated = max(updated, shown_at)
            inv["updated_at"] = ts(updated)
            rows.append((created, inv, booked, canceled_at))
        rows.sort(key=lambda r: r[0])
        ev_created = min(r[2] for r in rows)
        changes = [r[0] for r in rows] + [r[3] for r in rows if r[3] is not None]
        ev_updated = max(max(changes), ev_created + jitter(rng, 0.01, 0.1))
        active_n = sum(1 for r in rows if r[1]["status"] == "active")
        event = {
            "uri": event_uri, "name": d["name"], "status": "active" if active_n else "canceled",
            "start_time": ts(start), "end_time": ts(end), "event_type": meta["uri"],
            "location": location(rng, d["location"], person_of[rows[0][1]["uri"].rsplit("/", 1)[1]]["phone"]),
            "invitees_counter": {"total": len(rows), "active": active_n, "limit": d["limit"]},
            "created_at": ts(ev_created), "updated_at": ts(ev_updated),
            "event_memberships": [{"user": h, "user_email": users_email(users, h),
                                   "user_name": users_name(users, h)} for h in hosts],
            "event_guests": [], "calendar_event": calendar_event(rng),
        }
        if d["kind"] != "group" and rng.random() < 0.04:
            g = persons[rng.randrange(len(persons))]["email"]
            event["event_guests"].append({"email": g, "created_at": ts(ev_created),
                                          "updated_at": ts(ev_created)})
        if not active_n:  # the last invitee to leave cancels the event itself
            last = max((r for r in rows if r[3] is not None), key=lambda r: r[3])
            event["cancellation"] = dict(last[1]["cancellation"])
        events.append(event)
        invitees[s["uuid"]] = [r[1] for r in rows]

    forms, routes, submissions = _routing(rng, shape, org_uri, tmeta, specs, invitees, persons, person_of,
                                             taken, window_start, now, birth)
    _delete_event_types(krng, shape.deleted_event_types, event_types, events, invitees, now)
    departed = _depart(krng, shape.departed_hosts, users, tmeta, events)
    if shape.unknown_fields:
        _add_unknown_fields(krng, [event_types, events, [i for e in events for i in invitees[_uuid(e)]],
                                   memberships, forms, submissions])
    return {"org_uri": org_uri, "users": users, "roles": roles, "tokens": tokens,
            "memberships": memberships, "event_types": event_types, "tmeta": tmeta,
            "events": events, "invitees": invitees, "forms": forms, "form_routes": routes,
            "submissions": submissions, "persons": persons, "admin_i": admin_i, "departed": departed,
            "shape": shape}


def _uuid(resource: dict) -> str:
    return resource["uri"].rsplit("/", 1)[1]


def _host(i: int) -> tuple:
    """(name, timezone) of host ``i``: the named few, then distinct names from the vocabulary."""
    if i < len(HOSTS):
        return HOSTS[i]
    j = i - len(HOSTS)
    return f"{FIRST[j % len(FIRST)]} {LAST[(7 * j + 3) % len(LAST)]}", TIMEZONES[j % len(TIMEZONES)]


def _organization(rng, n_hosts: int, org_uri: str, birth: datetime) -> tuple:
    """Users, their memberships, roles and tokens: 0 owner, 1 admin (when there are >= 3), the rest
    plain users."""
    users, memberships, roles, tokens = [], [], [], []
    slugs = set()
    for i in range(n_hosts):
        name, tz = _host(i)
        role = "owner" if i == 0 else "admin" if (i == 1 and n_hosts >= 3) else "user"
        slug = name.lower().replace(" ", "-").replace("'", "")
        if slug in slugs:  # past a few hundred hosts the vocabulary repeats itself
            slug = f"{slug}-{i + 1}"
        slugs.add(slug)
        created = birth + timedelta(days=7 * i) + jitter(rng, 0, 86400)
        updated = created + jitter(rng, 86400, 200 * 86400)
        uid = new_uuid(rng)
        user = {"uri": f"{BASE_URI}/users/{uid}", "name": name, "slug": slug,
                "email": f"{slug.replace('-', '.')}@{ORG_DOMAIN}", "scheduling_url": f"{WEB}/{slug}",
                "timezone": tz,
                "avatar_url": (f"https://d3v0px0pttie1i.cloudfront.net/uploads/user/avatar/"
                               f"{rng.randrange(10**6, 10**7)}/{rng.getrandbits(32):08x}.jpg")
                if i % 2 == 0 else None,
                "created_at": ts(created), "updated_at": ts(updated), "current_organization": org_uri}
        users.append(user)
        roles.append(role)
        tokens.append(f"sbx_{role}_{rng.getrandbits(160):040x}")
        member_user = {k: user[k] for k in ("uri", "name", "slug", "email", "scheduling_url", "timezone",
                                            "avatar_url", "created_at", "updated_at")}
        memberships.append({"uri": f"{BASE_URI}/organization_memberships/{new_uuid(rng)}", "role": role,
                            "user": member_user, "organization": org_uri,
                            "updated_at": ts(updated), "created_at": ts(created)})
    return users, memberships, roles, tokens


def type_defs(shape: Shape) -> list:
    """EVENT_TYPES as ``shape`` has them: pooled (team) types need two hosts, questions only with
    custom_questions, and the big group type seats group_size's upper end."""
    out = []
    for d in EVENT_TYPES:
        if d["pooling"] and shape.hosts < 2:
            continue
        if not shape.custom_questions:
            d = dict(d, questions=[])
        if shape.group_size and d["kind"] == "group" and d["limit"] >= 25:
            d = dict(d, limit=max(d["limit"], shape.group_size[1]))
        out.append(d)
    return out


def _event_types(rng, defs, users, host_rule, admin_i, birth, window_start, now) -> tuple:
    """Event type resources, and per key the metadata bookings need (uuid, uri, def, hosts)."""
    event_types, tmeta = [], {}
    for d in defs:
        hosts = [users[i]["uri"] for i in host_rule[d["hosts"]]]
        lead = users[host_rule[d["hosts"]][0]]
        team = d.get("team")
        slug = d["name"].lower().replace(" ", "-")
        created = birth + timedelta(days=30) + jitter(rng, 0, 60 * 86400)
        active = d.get("active", True)
        # the inactive type was switched off half-way through the history, after its last event
        updated = (window_start + (now - window_start) / 2 + jitter(rng, 3600, 86400)) if not active \
            else min(now, created + jitter(rng, 86400, 400 * 86400))
        uid = new_uuid(rng)
        et = {
            "uri": f"{BASE_URI}/event_types/{uid}", "name": d["name"], "active": active,
            "booking_method": "instant", "slug": slug,
            "scheduling_url": f"{WEB}/{team.lower().replace(' ', '-') if team else lead['slug']}/{slug}",
            "duration": d["duration"], "kind": d["kind"], "pooling_type": d["pooling"],
            "type": "StandardEventType", "color": d["color"],
            "created_at": ts(created), "updated_at": ts(updated),
            "internal_note": "Qualify before booking a demo" if d["key"] == "discovery" else None,
            "description_plain": f"{d['name']} with the Northwind team" if active else None,
            "description_html": f"<p>{d['name']} with the Northwind team</p>" if active else None,
            "profile": ({"type": "Team", "name": team, "owner": users[admin_i]["uri"]} if team else
                        {"type": "User", "name": lead["name"], "owner": lead["uri"]}),
            "secret": False, "deleted_at": None, "kind_description": d["kdesc"], "admin_managed": False,
            "custom_questions": [
                {"name": q["name"], "type": q["type"], "position": pos, "enabled": True,
                 "required": q["required"], "answer_choices": q["choices"], "include_other": q["other"]}
                for pos, q in enumerate(d["questions"])],
        }
        event_types.append(et)
        tmeta[d["key"]] = {"uuid": uid, "uri": et["uri"], "def": d, "hosts": hosts, "name": d["name"]}
    return event_types, tmeta


def _schedule(rng, defs, tmeta, n_events, now, past_days, future_days) -> list:
    """When the events happen, by start: 75/25 past/future, some forced into the no-show window.
    Returns one spec per event (key, category, start, uuid; ``role`` is set by reschedules)."""
    window_start, window_end = now - timedelta(days=past_days), now + timedelta(days=future_days)
    past_share = 0.75 if past_days > 0 and future_days > 0 else (1.0 if future_days <= 0 else 0.0)
    n_past = round(n_events * past_share)
    n_recent = min(n_past, max(12, round(0.02 * n_events))) if past_days > 0 else 0
    recent_lo = max(window_start, now - NO_SHOW_WINDOW)
    keys = [d["key"] for d in defs]
    weights = [d["weight"] for d in defs]
    live_keys = [k for k in keys if tmeta[k]["def"].get("active", True)]
    live_weights = [tmeta[k]["def"]["weight"] for k in live_keys]
    specs = []
    for i in range(n_events):
        cat = "recent" if i < n_recent else "past" if i < n_past else "future"
        key = (rng.choices(keys, weights)[0] if cat == "past"
               else rng.choices(live_keys, live_weights)[0])
        dur = timedelta(minutes=tmeta[key]["def"]["duration"])
        if cat == "future":
            lo, hi = now + timedelta(microseconds=1), window_end
        elif cat == "recent":
            lo, hi = recent_lo, now
        elif not tmeta[key]["def"].get("active", True):
            lo, hi = window_start, window_start + (now - window_start) / 2
        else:
            lo, hi = window_start, now
        specs.append({"key": key, "cat": cat, "start": slot_time(rng, lo, hi, dur),
                      "uuid": new_uuid(rng), "role": None})
    specs.sort(key=lambda s: s["start"])
    return specs


def _reschedule_chains(rng, specs, tmeta, now) -> None:
    """An old booking moved to a neighbouring event of the same type: marks both specs."""
    for i, s in enumerate(specs):
        if s["role"] or tmeta[s["key"]]["def"]["kind"] == "group" or s["key"] == "legacy" \
                or rng.random() >= 0.05:
            continue
        j = next((j for j in range(i + 1, min(i + 6, len(specs))) if specs[j]["key"] == s["key"]
                  and not specs[j]["role"]), None)
        if j is None:
            continue
        a, b = s, specs[j]
        if a["cat"] == "recent" and b["cat"] == "recent":
            continue
        old, new = (a, b) if (b["cat"] == "recent" or (a["cat"] != "recent" and rng.random() < 0.5)) \
            else (b, a)
        moved = min(old["start"], new["start"], now) - jitter(rng, 3600, 10 * 86400)
        old.update(role="old", booked=moved - jitter(rng, 3600, 15 * 86400), moved=moved,
                   inv=new_uuid(rng), partner=new)
        new.update(role="new", booked=moved, inv=new_uuid(rng), partner=old)


def _party_size(rng, d: dict, big: tuple | None) -> int:
    """Invitees of one event: one, a handful for small groups, more for the big group type
    (``big``: the shape's group_size)."""
    if d["kind"] != "group":
        return 1
    if d["limit"] >= 25:
        return rng.randint(*big) if big else rng.randint(3, 18)
    return rng.randint(2, 7)


def _delete_event_types(rng, n: int, event_types, events, invitees, now) -> None:
    """Delete ``n`` active event types that had bookings, after their last booking. Their scheduled
    events and invitees stay (Calendly keeps them, and keeps serving the type by its uri)."""
    if not n:
        return
    last_booked = {}
    for e in events:
        for inv in invitees[_uuid(e)]:
            last_booked[e["event_type"]] = max(last_booked.get(e["event_type"], ""), inv["created_at"])
    candidates = [et for et in event_types if et["active"] and et["uri"] in last_booked]
    for et in rng.sample(candidates, min(n, len(candidates))):
        lo = datetime.fromisoformat(max(last_booked[et["uri"]], et["updated_at"])[:-1])
        deleted = ts(lo + (max(now, lo) - lo) * rng.random())
        et.update(active=False, deleted_at=deleted, updated_at=deleted)


def _depart(rng, n: int, users, tmeta, events) -> list:
    """``n`` hosts leave the organization (never the owner; hosts with events first, latest
    joiners first). Returns their indices. Their events keep their event_memberships; new
    bookings of their types go to the remaining hosts, or to the owner."""
    if not n:
        return []
    hosted = {m["user"] for e in events for m in e["event_memberships"]}
    order = sorted(range(len(users) - 1, 0, -1), key=lambda i: users[i]["uri"] not in hosted)
    gone = order[:n]
    gone_uris = {users[i]["uri"] for i in gone}
    for i in gone:  # they keep their Calendly user, in an organization of their own
        users[i]["current_organization"] = f"{BASE_URI}/organizations/{new_uuid(rng)}"
    for meta in tmeta.values():
        meta["hosts"] = [h for h in meta["hosts"] if h not in gone_uris] or [users[0]["uri"]]
    return gone


def _add_unknown_fields(rng, tables: list) -> None:
    """Undocumented fields on every row; the drifting one is a string on every tenth row (from the
    second), so even a two-row table shows the drift."""
    kinds = ("event_type", "scheduled_event", "invitee", "organization_membership", "routing_form",
             "routing_form_submission")
    for kind, rows in zip(kinds, tables):
        for i, row in enumerate(rows):
            quirks.add_unknown_fields(rng, row, kind, as_text=i % 10 == 1)


def users_name(users: list, uri: str) -> str:
    return next(u["name"] for u in users if u["uri"] == uri)


def users_email(users: list, uri: str) -> str:
    return next(u["email"] for u in users if u["uri"] == uri)


def _routing(rng, shape, org_uri, tmeta, specs, invitees, persons, person_of, taken, window_start, now, birth):
    """Routing forms, the submissions that led to ~10% of bookings, and some that led nowhere.
    Returns (forms, {form uuid: keys of the event types it routes to}, submissions)."""
    forms, routes = [], []
    for f in range(shape.routing_forms):
        name, _, questions = FORMS[f] if f < len(FORMS) else (f"Routing Form {f + 1}",) + FORMS[0][1:]
        created = birth + timedelta(days=60 + 10 * f) + jitter(rng, 0, 86400)
        forms.append({
            "uri": f"{BASE_URI}/routing_forms/{new_uuid(rng)}", "organization": org_uri, "name": name,
            "status": "published",
            "questions": [{"uuid": new_uuid(rng), "name": qn, "type": qt, "required": req,
                           "answer_choices": ch} for qn, qt, req, ch in questions],
            "created_at": ts(created), "updated_at": ts(created + jitter(rng, 3600, 90 * 86400))})
        routes.append(tuple(k for k in form_routes(f) if k in tmeta))  # a solo owner has no team types
    if not forms:
        return [], {}, []

    subs = []
    total = sum(len(v) for v in invitees.values())
    routed_n = sum(len(invitees[s["uuid"]]) for s in specs if s["key"] in ROUTED_TYPES)
    p_link = min(1.0, 0.10 * total / routed_n) if routed_n else 0.0
    for s in specs:
        if s["key"] not in ROUTED_TYPES or s["role"] == "new":
            continue
        for inv in invitees[s["uuid"]]:
            if rng.random() >= p_link:
                continue
            choices = [i for i, r in enumerate(routes) if s["key"] in r]
            if not choices:
                continue
            form = forms[rng.choice(choices)]
            person = person_of[inv["uri"].rsplit("/", 1)[1]]
            booked = datetime.fromisoformat(inv["created_at"][:-1])
            sub_uri = f"{BASE_URI}/routing_form_submissions/{new_uuid(rng)}"
            inv["routing_form_submission"] = sub_uri
            subs.append({"uri": sub_uri, "routing_form": form["uri"],
                         "questions_and_answers": form_answers(rng, form, person), "tracking": dict(inv["tracking"]),
                         "result": {"type": "event_type", "value": tmeta[s["key"]]["uri"]},
                         "submitter": inv["uri"], "submitter_type": "Invitee",
                         "created_at": ts(booked - jitter(rng, 20, 900)), "updated_at": inv["created_at"]})
    type_uris = {key: m["uri"] for key, m in tmeta.items()}
    for _ in range(max(3, len(subs) // 3)):
        f = rng.randrange(len(forms))
        person = persons[rng.randrange(len(persons))] if rng.random() < 0.5 else make_person(rng, taken)
        created = window_start + (now - window_start) * rng.random()
        subs.append(unrouted_submission(rng, forms[f], routes[f], type_uris, person, ts(created), shape.utm))
    subs.sort(key=lambda x: (x["created_at"], x["uri"]))
    return forms, {_uuid(f): r for f, r in zip(forms, routes)}, subs


def form_routes(index: int) -> tuple:
    """Keys of the event types routing form ``index`` leads to (forms past FORMS repeat the first)."""
    return FORMS[index][1] if index < len(FORMS) else FORMS[0][1]


def form_answers(rng: random.Random, form: dict, person: dict) -> list:
    """A person's answers to a routing form's questions (optional ones sometimes left empty)."""
    out = []
    for q in form["questions"]:
        t = q["type"]
        a = (f"{person['first']} {person['last']}" if t == "name" else person["email"] if t == "email"
             else person["phone"] if t == "phone" else person["company"] if t == "text"
             else rng.choice(q["answer_choices"]) if t in ("select", "radios") else rng.choice(DISCUSS))
        if not q["required"] and rng.random() < 0.4:
            a = None
        out.append({"question_uuid": q["uuid"], "question": q["name"], "answer": a})
    return out


def unrouted_submission(rng: random.Random, form: dict, routes: tuple, type_uris: dict, person: dict,
                        at: str, utm: bool = True, routed: bool = False) -> dict:
    """A submission that led to no booking: a message, a link, or a booking page left unbooked.
    ``routes`` are the keys of the event types the form routes to; ``type_uris`` maps keys to uris.
    ``routed``: always a booking page (not booked yet), drawing the same numbers."""
    r = rng.random()
    if routed:
        if not routes:
            raise ValueError(f"routing form {form['uri']} routes to no bookable event type of this account")
        r = 0.9
    if r < 0.45:
        result = {"type": "custom_message", "value": {
            "headline": "Thank you for your interest",
            "body": "We aren't able to offer a meeting right now. We'll be in touch by email."}}
    elif r < 0.8:
        result = {"type": "external_url", "value": "https://northwind-scheduling.com/partners"}
    else:  # routed to a booking page, then never booked
        result = {"type": "event_type", "value": type_uris[rng.choice(routes)]}
    return {"uri": f"{BASE_URI}/routing_form_submissions/{new_uuid(rng)}",
            "routing_form": form["uri"], "questions_and_answers": form_answers(rng, form, person),
            "tracking": tracking(rng, utm), "result": result, "submitter": None, "submitter_type": None,
            "created_at": at, "updated_at": at}
