"""`calendly-elt auth login` in a real process: it prints the authorize URL, a browser follows it."""

import os
import stat
import subprocess
import sys

from pipelines.oauth import TokenStore
from sandbox.calendly.oauth import SANDBOX_CLIENT_ID
from tests.oauth.conftest import api, follow


def test_auth_login_command_stores_working_tokens(sandbox, tmp_path):
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALENDLY_")}
    # BROWSER: webbrowser.open runs this command instead of a real browser; the test is the browser.
    env.update(CALENDLY_CLIENT_ID=SANDBOX_CLIENT_ID, CALENDLY_AUTH_URL=sandbox.url, WAREHOUSE_PATH=str(warehouse),
               BROWSER="true")
    process = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "auth", "login", "--timeout", "30"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout.readline().startswith("Opening Calendly's login page")
    url = process.stdout.readline().strip()
    assert follow(url).status_code == 200
    out = process.stdout.read()
    assert process.wait(timeout=30) == 0, out
    assert "logged in as" in out
    token_file = warehouse.parent / ".calendly_oauth.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert api(sandbox, TokenStore(token_file).load().tokens.access_token).status_code == 200
