"""Constants of the Brevo sync."""

DEFAULT_API_URL = "https://api.brevo.com/v3"
RATE_LIMIT_HEADERS = ("x-sib-ratelimit-limit", "x-sib-ratelimit-remaining", "x-sib-ratelimit-reset")

# POST /contacts/import takes at most 10 MB; stay well under it (the JSON around the rows counts too).
MAX_IMPORT_BYTES = 8_000_000
MAX_IMPORT_ROWS = 50_000
# Up to this many contacts due, each is sent by a synchronous `POST /contacts` instead of an import
# (Brevo allows 10 contact requests/s on the General plan: at most a second of its budget).
DIRECT_MAX_CONTACTS = 10
LIST_PAGE = 50  # Brevo's maximum `limit` for folders and lists

FOLDER_NAME = "Calendly"  # where the sync creates lists (named by marts.brevo_contacts)

# Brevo attribute types of the contact fields the mapping may name (everything else is text).
FIELD_TYPES = {"start_time": "date"}

POLL_FIRST_SECONDS = 0.2
POLL_MAX_SECONDS = 5.0
POLL_TIMEOUT_SECONDS = 900.0

# Re-booking links (rebook_links.py): attempts per POST /scheduling_links (dlt's backoff: about 3.5 s
# of retries before the run leaves minting to the next), and the share of Calendly's window
# (X-RateLimit-Limit: 500 a minute on paid plans, 50 on Free) one run may spend on links.
REBOOK_MAX_ATTEMPTS = 4
REBOOK_RATE_SHARE = 0.5
# The window assumed when Calendly announces none (no X-RateLimit-Limit): the Free plan's, the smallest.
REBOOK_ASSUMED_LIMIT = 50
# A refused episode is asked again this long after (a type switched back on, a permission granted).
REBOOK_REFUSED_RETRY_AFTER_DAYS = 7
# A run whose first this-many answers are all 403: the token likely cannot make links at all (it lacks
# the scheduling_links:write scope), so the run stops asking instead of spending its budget on refusals.
REBOOK_FORBIDDEN_STOP = 3
