import os

# As the CLI does: no usage telemetry from test runs (and no waiting on an unreachable host).
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
