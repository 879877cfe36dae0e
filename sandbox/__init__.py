"""The Calendly and Brevo API stand-ins: a test double that the demo, `make ui`, the tests and the
benches use. The pipeline (`pipelines/`, `orchestration/`) never imports it; only the CLI's `sandbox`
and `demo` commands and the `make ui` launcher start it, through :func:`sandbox.stack.start_sandboxes`."""
