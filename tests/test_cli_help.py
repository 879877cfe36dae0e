"""`calendly-elt COMMAND --help`: every command and option described, and the environment variables the
command reads listed with what they mean, in the help a user sees (a real process)."""

import subprocess
import sys

import pytest

from pipelines import cli
from pipelines.config import Settings


def _commands(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = dict(_commands(cli.command()))
VARIABLES = {field.validation_alias for field in Settings.model_fields.values()}


def test_every_command_and_option_is_described_and_reads_only_real_settings():
    assert {" ".join(path) for path in COMMANDS} >= {
        "extract", "transform", "sync", "report", "run", "sandbox", "demo",
        "webhooks serve", "webhooks subscribe", "webhooks list", "webhooks delete", "auth login"}
    for path, command in COMMANDS.items():
        assert command.help, f"{path} has no help"
        for param in command.params:
            assert getattr(param, "help", None), f"{' '.join(path)} {param.name} has no help"
        assert set(command.reads) <= VARIABLES, f"{path} reads variables Settings does not know"


@pytest.mark.parametrize("path, reads", [(("extract",), "CALENDLY_ACCESS_TOKEN"), (("sync",), "BREVO_API_KEY"),
                                         (("webhooks", "serve"), "CALENDLY_WEBHOOK_SIGNING_KEY")])
def test_help_lists_the_variables_the_command_reads_with_their_meaning(path, reads):
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", *path, "--help"], capture_output=True,
                          text=True, timeout=120, env={"COLUMNS": "200", "PATH": ""})
    assert done.returncode == 0, done.stderr
    help_text = done.stdout
    assert "Environment variables" in help_text and reads in help_text
    for name in COMMANDS[path].reads:
        assert name in help_text
    assert "CALENDLY_ELT_LOG_LEVEL" in help_text  # every command logs
    description = Settings.model_fields[next(n for n, f in Settings.model_fields.items()
                                             if f.validation_alias == reads)].description
    assert description.split(" (")[0].split(":")[0] in " ".join(help_text.split())


def test_options_are_validated_before_anything_runs():
    assert cli.main(["extract", "--lookback-days", "-5"]) == 2
    assert cli.main(["extract", "--max-workers", "0"]) == 2
    assert cli.main(["no-such-command"]) == 2
