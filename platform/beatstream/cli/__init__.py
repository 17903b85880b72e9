"""The `beatstream` command: thin typer wrappers over importable functions.

One module per command group; each registers itself on `app` here. Groups from other
installed distributions join through the `beatstream.cli` entry-point group: that is
how a development install gets `beatstream stack` (the `devstack` package), which the
service's wheel and image do not contain.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

from beatstream.cli import accounts, charts, demo, keys, partners, reindex, serve, sync
from beatstream.cli import init as init_command
from beatstream.cli import seed as seed_command

PLUGIN_GROUP = "beatstream.cli"

app = typer.Typer(
    name="beatstream",
    help="Beatstream: music-streaming data platform (API and pipelines).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for plugin in sorted(entry_points(group=PLUGIN_GROUP), key=lambda entry: entry.name):
    app.add_typer(plugin.load(), name=plugin.name)
app.add_typer(accounts.app, name="accounts")
app.add_typer(charts.app, name="charts")
app.add_typer(keys.app, name="keys")
app.add_typer(partners.app, name="partners")
# The old name of `partners`, kept working for existing scripts.
app.add_typer(partners.app, name="thirdparty", help="Alias of `beatstream partners`.")
app.command("init")(init_command.init)
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("seed")(seed_command.seed)
app.command("reindex")(reindex.reindex)
app.command("sync")(sync.sync)


def main() -> None:
    app()
