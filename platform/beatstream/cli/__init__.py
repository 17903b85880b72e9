"""The `beatstream` command: thin typer wrappers over importable functions.

One module per command group; each registers itself on `app` here.
"""

from __future__ import annotations

import typer

from beatstream.cli import accounts, keys, reindex, serve, stack, sync, thirdparty
from beatstream.cli import seed as seed_command

app = typer.Typer(
    name="beatstream",
    help="Beatstream: music-streaming data platform (API, stack, pipelines).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack.app, name="stack")
app.add_typer(accounts.app, name="accounts")
app.add_typer(keys.app, name="keys")
app.add_typer(thirdparty.app, name="thirdparty")
app.command("serve")(serve.serve)
app.command("seed")(seed_command.seed)
app.command("reindex")(reindex.reindex)
app.command("sync")(sync.sync)


def main() -> None:
    app()
