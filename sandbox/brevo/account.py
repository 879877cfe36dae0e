"""The state of one Brevo account, and the ground truth tests compare a sync against.

Contacts are keyed by lower-cased email (Brevo treats email case-insensitively and stores it
lower-cased); email and SMS are unique across contacts. Attribute values are kept only when the
attribute exists in the account and the value has its type, as Brevo does silently: text is a
string, date a "YYYY-MM-DD" string, float a number, boolean a bool, and SMS (held apart from the
other attributes, shown among them and as ``sms``) an international number "+<country code><number>".

Imports are two-step, like Brevo's background processes: :meth:`BrevoAccount.submit_import`
queues the rows and returns a process id, :meth:`BrevoAccount.apply_import` (called later by the
server's timer thread) applies them and completes the process report.

Custom events (`POST /events`) are kept in the order they were accepted, with everything sent
(:meth:`BrevoAccount.events`), so a test can assert exactly what reached Brevo.

Deleting a contact (:meth:`BrevoAccount.delete_contact`) removes it with everything attached to it:
its list memberships, its SMS (free for another contact again) and its kept events.

Every method takes the account lock itself; the HTTP side never touches the dicts directly.
"""

from __future__ import annotations

import copy
import re
import threading
from datetime import date, datetime, timezone

ATTRIBUTE_TYPES = ("text", "date", "float", "boolean")
# A new Brevo account has these contact attributes (EMAIL is the identifier, not an attribute).
DEFAULT_ATTRIBUTES = (("FIRSTNAME", "text"), ("LASTNAME", "text"), ("SMS", "text"))
# The email the sandbox account is registered with (`GET /account`): Brevo refuses to delete its contact.
OWNER_EMAIL = "owner@sandbox.example"
EMAIL = re.compile(r"^[^@\s\"(),:;<>\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$")
SMS = re.compile(r"^\+[1-9][0-9]{6,14}$")  # E.164: "+", country code, at most 15 digits in all
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


SMS_HELD = "held by another contact"
ANY = object()  # refuse_event_contact_property: whatever the value


def valid_email(value) -> bool:
    return isinstance(value, str) and len(value) <= 254 and EMAIL.match(value) is not None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _empty(value) -> bool:
    """An "empty field" in Brevo's import sense: a null or a blank string."""
    return value is None or (isinstance(value, str) and value.strip() == "")


class Rejected(Exception):
    """A contact operation Brevo refuses (the server answers 400 with ``code``/``message``)."""

    def __init__(self, code: str, message: str, metadata: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.metadata = code, message, metadata


class BrevoAccount:
    def __init__(self, api_key: str = "xkeysib-sandbox-0001", contact_limit_per_import_bytes: int = 10_000_000):
        self.api_key = api_key
        self.contact_limit_per_import_bytes = contact_limit_per_import_bytes
        self.lock = threading.RLock()
        self._attributes = {name: {"category": "normal", "type": t} for name, t in DEFAULT_ATTRIBUTES}
        self._folders: dict[int, dict] = {}  # id -> {"name", "createdAt"}
        self._lists: dict[int, dict] = {}  # id -> {"name", "folderId", "createdAt"}
        self._contacts: dict[str, dict] = {}  # email -> {"id", "attributes", "listIds": set, "sms", "createdAt", "modifiedAt"}
        self._by_id: dict[int, str] = {}
        self._by_sms: dict[str, str] = {}
        self._processes: dict[int, dict] = {}  # the reports of processes(), by id
        self._process_times: dict[int, dict] = {}  # id -> {"created_at", "completed_at"}
        self._jobs: dict[int, dict] = {}  # imports submitted and not applied yet
        self._events: list[dict] = []  # accepted custom events, in order
        self._refused_event_emails: set[str] = set()
        self._refused_contact_property: tuple | None = None  # (attribute, value or ANY)
        self._next = {"folder": 1, "list": 1, "contact": 1, "process": 1}

    def _new_id(self, kind: str) -> int:
        n = self._next[kind]
        self._next[kind] = n + 1
        return n

    # ------------------------------------------------------------------ ground truth
    def contacts(self) -> dict:
        """{email: {"id", "attributes", "listIds" (sorted), "sms"}}, a deep copy. ``attributes``
        holds SMS too when the contact has one (as Brevo shows it); ``sms`` repeats it (or None)."""
        with self.lock:
            return {email: {"id": c["id"], "attributes": self._shown_attributes(c),
                            "listIds": sorted(c["listIds"]), "sms": c["sms"]}
                    for email, c in self._contacts.items()}

    @staticmethod
    def _shown_attributes(c: dict) -> dict:
        attributes = copy.deepcopy(c["attributes"])
        if c["sms"] is not None:
            attributes["SMS"] = c["sms"]
        return attributes

    def events(self, email: str | None = None, name: str | None = None) -> list[dict]:
        """The custom events accepted so far, oldest first, a deep copy; optionally only those of one
        contact (by email, any case) or one event name. Each holds what was sent (``event_name``,
        ``event_date`` or None, ``identifiers``, ``contact_properties``, ``event_properties``,
        ``object``, None when absent) and what the sandbox made of it: ``occurred_at`` (``event_date``
        in UTC, or the time of receipt without one), ``received_at``, the contact it was attributed to
        (``email``, ``contact_id``, ``contact_created``) and ``dropped_contact_properties`` ({name:
        why} for the contact properties that did not change the contact)."""
        key = email.lower() if email is not None else None
        with self.lock:
            return [copy.deepcopy(e) for e in self._events
                    if (key is None or e["email"] == key) and (name is None or e["event_name"] == name)]

    def lists(self) -> dict:
        with self.lock:
            return {i: {"name": li["name"], "folderId": li["folderId"]} for i, li in self._lists.items()}

    def folders(self) -> dict:
        with self.lock:
            return {i: f["name"] for i, f in self._folders.items()}

    def attributes(self) -> dict:
        with self.lock:
            return copy.deepcopy(self._attributes)

    def processes(self) -> dict:
        with self.lock:
            return copy.deepcopy(self._processes)

    def account_view(self) -> dict:
        """What `GET /account` answers: a fixed Free-plan sandbox account (the owner and plan never
        change; nothing in it depends on the contacts)."""
        return {
            "organization_id": "5a0dbb0c5a4d5a0dbb0c5a4d", "user_id": 1, "enterprise": False,
            "email": OWNER_EMAIL, "firstName": "Sandbox", "lastName": "Owner",
            "companyName": "Brevo sandbox",
            "address": {"city": "Paris", "country": "France", "street": "1 Sandbox Street", "zipCode": "75001"},
            "dateTimePreferences": {"timezone": "UTC", "timeFormat": "24", "dateFormat": "dd-mm-yyyy"},
            "marketingAutomation": {"enabled": False},
            "plan": [{"type": "free", "creditsType": "sendLimit", "credits": 300}],
            "relay": {"enabled": True, "data": {"userName": "owner@sandbox.example",
                                                "relay": "smtp-relay.brevo.com", "port": 587}},
        }

    # ------------------------------------------------------------------ attributes, folders, lists
    def create_attribute(self, name: str, type_: str, category: str = "normal") -> bool:
        """Add an attribute; False if one of that (upper-cased) name exists."""
        name = name.upper()
        with self.lock:
            if name in self._attributes:
                return False
            self._attributes[name] = {"category": category, "type": type_}
            return True

    def attribute_rows(self) -> list[dict]:
        with self.lock:
            return [{"name": n, "category": a["category"], "type": a["type"]} for n, a in self._attributes.items()]

    def create_folder(self, name: str) -> int:
        with self.lock:
            fid = self._new_id("folder")
            self._folders[fid] = {"name": name, "createdAt": _now()}
            return fid

    def has_folder(self, folder_id: int) -> bool:
        with self.lock:
            return folder_id in self._folders

    def create_list(self, name: str, folder_id: int) -> int:
        with self.lock:
            if folder_id not in self._folders:
                raise KeyError(folder_id)
            lid = self._new_id("list")
            self._lists[lid] = {"name": name, "folderId": folder_id, "createdAt": _now()}
            return lid

    def has_list(self, list_id: int) -> bool:
        with self.lock:
            return list_id in self._lists

    def unknown_lists(self, list_ids) -> list:
        with self.lock:
            return [i for i in list_ids if i not in self._lists]

    def _members(self) -> dict[int, int]:
        counts = dict.fromkeys(self._lists, 0)
        for c in self._contacts.values():
            for lid in c["listIds"]:
                counts[lid] = counts.get(lid, 0) + 1
        return counts

    def _list_row(self, lid: int, members: int) -> dict:
        li = self._lists[lid]
        return {"id": lid, "name": li["name"], "folderId": li["folderId"], "totalBlacklisted": 0,
                "totalSubscribers": members, "uniqueSubscribers": members}

    def list_rows(self) -> list[dict]:
        """Every list in creation order, with its subscriber counts (nobody is blacklisted here)."""
        with self.lock:
            members = self._members()
            return [self._list_row(lid, members[lid]) for lid in self._lists]

    def list_info(self, list_id: int) -> dict | None:
        with self.lock:
            if list_id not in self._lists:
                return None
            members = sum(1 for c in self._contacts.values() if list_id in c["listIds"])
            return dict(self._list_row(list_id, members), createdAt=self._lists[list_id]["createdAt"],
                        dynamicList=False)

    def folder_rows(self) -> list[dict]:
        with self.lock:
            in_folder: dict[int, set] = {fid: set() for fid in self._folders}
            for email, c in self._contacts.items():
                for lid in c["listIds"]:
                    in_folder[self._lists[lid]["folderId"]].add(email)
            return [{"id": fid, "name": f["name"], "totalBlacklisted": 0, "totalSubscribers": len(in_folder[fid]),
                     "uniqueSubscribers": len(in_folder[fid])} for fid, f in self._folders.items()]

    def change_membership(self, list_id: int, keys: list, add: bool, by_id: bool = False) -> tuple[list, list]:
        """Add (or remove) existing contacts, given by email or id, to (from) a list.

        Returns (success, failure): a key fails when its contact does not exist or is already
        in (out of) the list. Emails are answered lower-cased, as Brevo stores them."""
        success, failure = [], []
        with self.lock:
            for key in keys:
                email = self._by_id.get(key) if by_id else (key.lower() if isinstance(key, str) else None)
                shown = key if by_id else (key.lower() if isinstance(key, str) else key)
                c = self._contacts.get(email) if email is not None else None
                if c is None or (list_id in c["listIds"]) == add:
                    failure.append(shown)
                    continue
                (c["listIds"].add if add else c["listIds"].discard)(list_id)
                c["modifiedAt"] = _now()
                success.append(shown)
        return success, failure

    # ------------------------------------------------------------------ attribute values
    def _check(self, name: str, value) -> str | None:
        """Why ``value`` cannot be stored in attribute ``name`` (None if it can)."""
        attr = self._attributes.get(name)
        if attr is None:
            return "unknown attribute"
        if name == "SMS":
            return None if isinstance(value, str) and SMS.match(value) else "not an international number (+<digits>)"
        kind = attr["type"]
        if kind == "text":
            return None if isinstance(value, str) else "not a string"
        if kind == "float":
            return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "not a number"
        if kind == "boolean":
            return None if isinstance(value, bool) else "not a boolean"
        if kind == "date":
            if isinstance(value, str) and ISO_DATE.match(value):
                try:
                    date.fromisoformat(value)
                    return None
                except ValueError:
                    pass
            return "not a YYYY-MM-DD date"
        return f"type {kind} not supported by the sandbox"

    def _set_sms(self, email: str, c: dict, sms: str | None) -> bool:
        """Give contact ``c`` this SMS (None erases it); False if another contact holds it."""
        if sms is not None and self._by_sms.get(sms, email) != email:
            return False
        if c["sms"] is not None:
            self._by_sms.pop(c["sms"], None)
        c["sms"] = sms
        if sms is not None:
            self._by_sms[sms] = email
        return True

    def _new_contact(self, email: str, now: str | None = None) -> dict:
        now = now or _now()
        c = {"id": self._new_id("contact"), "attributes": {}, "listIds": set(), "sms": None,
             "createdAt": now, "modifiedAt": now}
        self._contacts[email] = c
        self._by_id[c["id"]] = email
        return c

    # ------------------------------------------------------------------ single contacts
    def find(self, identifier: str, kind: str | None = None) -> str | None:
        """The email of the contact an API identifier designates (email, id or SMS), or None."""
        with self.lock:
            if kind is None:
                kind = ("email_id" if "@" in identifier else "contact_id" if identifier.isdigit()
                        else "phone_id")
            if kind == "email_id":
                email = identifier.lower()
                return email if email in self._contacts else None
            if kind == "contact_id":
                return self._by_id.get(int(identifier)) if identifier.isdigit() else None
            if kind == "phone_id":
                return self._by_sms.get(identifier) or self._by_sms.get("+" + identifier.lstrip("+"))
            return None

    def contact_view(self, email: str) -> dict | None:
        """A contact as GET /contacts/{identifier} shows it."""
        with self.lock:
            c = self._contacts.get(email)
            if c is None:
                return None
            attributes = self._shown_attributes(c)
            return {"email": email, "id": c["id"], "emailBlacklisted": False, "smsBlacklisted": False,
                    "createdAt": c["createdAt"], "modifiedAt": c["modifiedAt"], "attributes": attributes,
                    "listIds": sorted(c["listIds"]), "statistics": {}}

    def _apply_attributes(self, email: str, c: dict, attributes: dict, erase_empty: bool) -> None:
        """createContact/updateContact semantics: unknown attributes and wrong types are ignored,
        empty values erase (updates only), a bad or taken SMS is refused before anything changes."""
        sms = attributes.get("SMS", c["sms"])
        if "SMS" in attributes and not _empty(sms):
            if self._check("SMS", sms):
                raise Rejected("invalid_parameter", "Invalid phone number")
            if self._by_sms.get(sms, email) != email:
                raise Rejected("duplicate_parameter", "Unable to update contact, SMS is already associated with another Contact",
                               {"duplicate_identifiers": ["sms"]})
        for name, value in attributes.items():
            if _empty(value):
                if erase_empty and name in self._attributes:
                    if name == "SMS":
                        self._set_sms(email, c, None)
                    else:
                        c["attributes"].pop(name, None)
            elif self._check(name, value) is None:
                if name == "SMS":
                    self._set_sms(email, c, value)
                else:
                    c["attributes"][name] = value

    def create_contact(self, email: str, attributes: dict, list_ids: list, update_enabled: bool) -> int | None:
        """POST /contacts: the new contact's id, or None when an existing one was updated."""
        key = email.lower()
        with self.lock:
            c = self._contacts.get(key)
            if c is not None and not update_enabled:
                raise Rejected("duplicate_parameter", "Unable to create contact, email is already associated with another Contact",
                               {"duplicate_identifiers": ["email"]})
            if c is None:
                sms = attributes.get("SMS")
                if not _empty(sms) and (self._check("SMS", sms) or sms in self._by_sms):
                    raise (Rejected("invalid_parameter", "Invalid phone number") if self._check("SMS", sms) else
                           Rejected("duplicate_parameter", "Unable to create contact, SMS is already associated with another Contact",
                                    {"duplicate_identifiers": ["sms"]}))
                c = self._new_contact(key)
                created = c["id"]
            else:
                created = None
            self._apply_attributes(key, c, attributes, erase_empty=created is None)
            c["listIds"].update(list_ids)
            c["modifiedAt"] = _now()
            return created

    def update_contact(self, email: str, attributes: dict, list_ids: list, unlink_list_ids: list) -> None:
        """PUT /contacts/{identifier}. An ``EMAIL`` attribute changes the contact's email."""
        with self.lock:
            c = self._contacts[email]
            attributes = dict(attributes)
            new_email = attributes.pop("EMAIL", None)
            if new_email is not None:
                if not valid_email(new_email):
                    raise Rejected("invalid_parameter", "Invalid email address")
                new_key = new_email.lower()
                if new_key != email and new_key in self._contacts:
                    raise Rejected("duplicate_parameter", "Unable to update contact, email is already associated with another Contact",
                                   {"duplicate_identifiers": ["email"]})
            self._apply_attributes(email, c, attributes, erase_empty=True)
            c["listIds"].update(list_ids)
            c["listIds"].difference_update(unlink_list_ids)
            c["modifiedAt"] = _now()
            if new_email is not None and new_email.lower() != email:
                new_key = new_email.lower()
                self._contacts[new_key] = self._contacts.pop(email)
                self._by_id[c["id"]] = new_key
                if c["sms"] is not None:
                    self._by_sms[c["sms"]] = new_key

    def delete_contact(self, email: str) -> bool:
        """DELETE /contacts/{identifier}: False if there is no such contact (anymore).

        Brevo's help centre ("Delete contacts") says deleting "will remove all of their information
        stored on your Brevo account ... including attributes, history, and other related
        information": so the contact's kept events go too (matched by contact id, which survives an
        email change), and a later contact with the same email is a new one with a new id. An
        import still queued that names the email creates it again when applied, as in Brevo."""
        with self.lock:
            c = self._contacts.pop(email, None)
            if c is None:
                return False
            del self._by_id[c["id"]]
            if c["sms"] is not None:
                self._by_sms.pop(c["sms"], None)
            # list membership lives on the contact (listIds), so it is gone with it
            self._events = [e for e in self._events if e["contact_id"] != c["id"]]
            return True

    # ------------------------------------------------------------------ imports
    def submit_import(self, rows: list, list_ids: list, update_existing: bool = True,
                      empty_attributes: bool = False) -> int:
        """Queue an import (POST /contacts/import); returns its process id. The account keeps
        ``rows`` as they are (not copied: a 10 MB import is large) until it applies them."""
        with self.lock:
            pid = self._new_id("process")
            self._jobs[pid] = {"rows": rows, "listIds": list(list_ids),
                               "update": update_existing, "empty": empty_attributes}
            self._processes[pid] = {"status": "queued", "imported": 0, "invalid_emails": [], "duplicate_sms": [],
                                    "dropped_attributes": {}}
            self._process_times[pid] = {"created_at": _now(), "completed_at": None}
            return pid

    def mark_processing(self, pid: int) -> None:
        with self.lock:
            if self._processes.get(pid, {}).get("status") == "queued":
                self._processes[pid]["status"] = "processing"

    def pending_imports(self) -> list[int]:
        with self.lock:
            return sorted(self._jobs)

    def _set_given(self, email: str, c: dict, values: dict) -> dict[str, str]:
        """Set the non-blank `values` on contact `c` (an import row's or an event's contact_properties):
        an attribute the account lacks or a value not of its type is dropped, as is an SMS another
        contact holds (SMS_HELD). Returns what was dropped, by name, with the reason."""
        dropped = {}
        for name, value in values.items():
            if _empty(value):
                continue
            reason = self._check(name, value)
            if reason:
                dropped[name] = reason
            elif name == "SMS":
                if not self._set_sms(email, c, value):
                    dropped[name] = SMS_HELD
            else:
                c["attributes"][name] = value
        return dropped

    def apply_import(self, pid: int) -> None:
        """Apply a queued import, row by row, and complete its report.

        Like a CSV import, the rows have the union of their attribute names as columns: with
        ``emptyContactsAttributes`` (and ``updateExistingContacts``) a null, blank or missing
        value in a column of an existing contact erases that attribute; otherwise empty values
        change nothing. Unknown attributes and wrong-typed values are dropped (and recorded in
        ``dropped_attributes``), invalid emails skip the row, an SMS held by another contact is
        not set (the contact is imported without it and listed in ``duplicate_sms``). With
        ``updateExistingContacts`` false, existing contacts keep their attributes but still
        join the lists."""
        with self.lock:
            job = self._jobs.pop(pid, None)
            if job is None:
                return
            report = self._processes[pid]
            report["status"] = "processing"
            now = _now()
            columns = {name for row in job["rows"] if isinstance(row, dict) and isinstance(row.get("attributes"), dict)
                       for name in row["attributes"] if name in self._attributes}
            for row in job["rows"]:
                row = row if isinstance(row, dict) else {}
                email = row.get("email")
                if not valid_email(email.strip() if isinstance(email, str) else email):
                    report["invalid_emails"].append("" if email is None else str(email))
                    continue
                key = email.strip().lower()
                values = row.get("attributes") if isinstance(row.get("attributes"), dict) else {}
                c = self._contacts.get(key)
                existed = c is not None
                if c is None:
                    c = self._new_contact(key, now)
                if not existed or job["update"]:
                    dropped = self._set_given(key, c, values)
                    if dropped.get("SMS") == SMS_HELD:  # an import reports it apart from dropped values
                        del dropped["SMS"]
                        report["duplicate_sms"].append(key)
                    if existed and job["empty"]:
                        for name in columns:
                            if _empty(values.get(name)):
                                if name == "SMS":
                                    self._set_sms(key, c, None)
                                else:
                                    c["attributes"].pop(name, None)
                    if dropped:
                        report["dropped_attributes"].setdefault(key, {}).update(dropped)
                c["listIds"].update(job["listIds"])
                c["modifiedAt"] = now
                report["imported"] += 1
            report["status"] = "completed"
            self._process_times[pid]["completed_at"] = _now()

    def process_view(self, pid: int) -> dict | None:
        """A process as GET /processes/{processId} shows it: the import counts go in ``info.import``."""
        with self.lock:
            report = self._processes.get(pid)
            if report is None:
                return None
            times = self._process_times[pid]
            view = {"id": pid, "name": "IMPORTUSER", "status": report["status"], "created_at": times["created_at"]}
            if report["status"] == "completed":
                view["completed_at"] = times["completed_at"]
                view["info"] = {"import": {"invalid_emails": len(report["invalid_emails"]),
                                           "duplicate_phone_id": len(report["duplicate_sms"])}}
            return view

    # ------------------------------------------------------------------ custom events
    def refuse_events_for(self, *emails: str) -> None:
        """Test knob: from now on, refuse (400) every event attributed to one of these emails, as
        Brevo refuses an event it cannot take; replaces the previous set (none: accept all again)."""
        with self.lock:
            self._refused_event_emails = {e.lower() for e in emails}

    def refuse_event_contact_property(self, attribute: str | None = None, value=ANY) -> None:
        """Test knob: from now on, refuse (400) every event whose contact_properties hold ``attribute``
        (with ``value``, if given), as Brevo refuses a value it rejects there – an SMS another contact
        holds, an attribute it does not know, a value of the wrong type. Replaces the previous one
        (none: accept all again). The same event without contact_properties is accepted."""
        with self.lock:
            self._refused_contact_property = None if attribute is None else (attribute, value)

    def _event_contact(self, identifiers: dict) -> tuple[str, bool]:
        """(email of the contact an event is attributed to, whether it was created for it).

        ``contact_id`` takes priority over every other identifier (the spec says so), then
        ``email_id``, then ``phone_id``. An unknown ``email_id`` creates the contact: Brevo's
        reference does not say what happens (its legacy trackEvent filled the contact database), and
        creating is the reading under which an event alone can start an automation for a first-time
        booker. An unknown ``contact_id`` or ``phone_id`` names nobody to create, and is refused."""
        if "contact_id" in identifiers:
            email = self._by_id.get(identifiers["contact_id"])
            if email is None:
                raise Rejected("document_not_found", "Contact does not exist")
            return email, False
        if "email_id" in identifiers:
            email = identifiers["email_id"].lower()
            return email, email not in self._contacts
        if "phone_id" in identifiers:
            email = self.find(identifiers["phone_id"], "phone_id")
            if email is None:
                raise Rejected("document_not_found", "Contact does not exist")
            return email, False
        # ext_id, whatsapp_id and landline_number_id: the sandbox keeps none of them on contacts
        raise Rejected("invalid_parameter", "only contact_id, email_id and phone_id identifiers are supported by the sandbox")

    def record_event(self, event: dict, occurred_at: str) -> dict:
        """Accept one validated event (the body of `POST /events`): attribute it, let its
        ``contact_properties`` update the contact, and keep it. Returns a copy of what was kept.

        Contact properties follow Brevo's attribute rules: an attribute the account does not have,
        or a value not of its type, is dropped silently (listed in ``dropped_contact_properties``);
        a blank value changes nothing; an SMS another contact holds is dropped."""
        identifiers = event["identifiers"]
        with self.lock:
            email, created = self._event_contact(identifiers)
            if email in self._refused_event_emails:
                raise Rejected("invalid_parameter", f"Event refused for {email} (sandbox knob refuse_events_for)")
            properties = event.get("contact_properties") or {}
            if self._refused_contact_property is not None:
                name, value = self._refused_contact_property
                if name in properties and (value is ANY or properties[name] == value):
                    # Named, not quoted: a value (a phone number) has no place in a refusal others log.
                    raise Rejected("invalid_parameter", f"contact_properties.{name} is refused "
                                                        "(sandbox knob refuse_event_contact_property)")
            c = self._new_contact(email) if created else self._contacts[email]
            dropped = self._set_given(email, c, event.get("contact_properties") or {})
            now = _now()
            if event.get("contact_properties"):
                c["modifiedAt"] = now
            record = {
                "event_name": event["event_name"], "event_date": event.get("event_date"),
                "occurred_at": occurred_at or now, "received_at": now,
                "identifiers": copy.deepcopy(identifiers),
                "contact_properties": copy.deepcopy(event.get("contact_properties")),
                "event_properties": copy.deepcopy(event.get("event_properties")),
                "object": copy.deepcopy(event.get("object")),
                "email": email, "contact_id": c["id"], "contact_created": created,
                "dropped_contact_properties": dropped,
            }
            self._events.append(record)
            return copy.deepcopy(record)
