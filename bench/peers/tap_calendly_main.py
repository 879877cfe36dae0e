"""tap-calendly's entry point, pointed at any Calendly base URL. Run it with the peer venv's python:

    bench/peers/.venv/bin/python bench/peers/tap_calendly_main.py --config tap.json --discover

tap-calendly 0.0.3 declares an `api_url` setting but never reads it: `CalendlyStream.url_base` is a
hard-coded https://api.calendly.com. This makes that setting work, and changes nothing else. It is
also the tap's only working entry point: the package installs no console script, and its
`python -m tap_calendly` fails (`from tap import TapCalendly`).
"""

from tap_calendly.client import CalendlyStream
from tap_calendly.tap import TapCalendly

DEFAULT_URL = CalendlyStream.url_base
# Read on every request, from the stream's validated config (the tap's own schema declares api_url).
CalendlyStream.url_base = property(lambda self: (self.config.get("api_url") or DEFAULT_URL).rstrip("/"))

if __name__ == "__main__":
    TapCalendly.cli()
