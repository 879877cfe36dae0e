"""`make ui`: Dagster's webserver on loopback, on the sandboxes, answering a GraphQL query for the graph."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.orchestration.test_definitions import EDGES, ENDS

QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, query: str) -> dict:
    request = urllib.request.Request(url, data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@pytest.fixture
def ui(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("CALENDLY_ACCESS_TOKEN", "BREVO_API_KEY")}
    log = tmp_path / "ui.log"
    with open(log, "w") as output:  # a file, not a pipe nobody drains while dagster dev logs
        process = subprocess.Popen([sys.executable, "-m", "orchestration.dev", "--port", str(port), "--events", "50",
                                    "--sandbox-dir", str(tmp_path / "sandbox")],
                                   env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/server_info", timeout=5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                pytest.fail(f"the webserver did not come up: {log.read_text()[-3000:]}")
            time.sleep(0.5)
    yield base, log
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def test_the_webserver_lists_the_whole_graph_over_graphql(ui):
    base, log = ui
    nodes = _post(f"{base}/graphql", QUERY)["data"]["assetNodes"]
    keys = {"/".join(n["assetKey"]["path"]) for n in nodes}
    edges = {("/".join(d["path"]), "/".join(n["assetKey"]["path"])) for n in nodes for d in n["dependencyKeys"]}
    assert keys == {a for a, _ in EDGES} | {b for _, b in EDGES} | ENDS
    assert EDGES <= edges
    # With no credentials set, the runs it launches use the sandboxes, in a folder of their own.
    banner = log.read_text().splitlines()[0]
    assert "no CALENDLY_ACCESS_TOKEN set, so runs use the sandboxes" in banner, banner
    assert (log.parent / "sandbox" / "dagster" / "dagster.yaml").exists()
