"""`beatstream stack up|status|down`: the local service stack, without Docker (development only)."""

from __future__ import annotations

import typer
from rich.console import Console

from devstack.manager import Stack
from devstack.process import StackError

app = typer.Typer(
    help="Install, start, inspect and stop real MongoDB-wire, Elasticsearch and "
    "Redis servers on loopback.",
    no_args_is_help=True,
)
console = Console(stderr=True)


def _fail(exc: StackError) -> typer.Exit:
    console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
    return typer.Exit(code=1)


@app.command()
def up() -> None:
    """Install (first run only) and start every server that is not running yet."""
    stack = Stack()
    with console.status("bringing the stack up") as spinner:

        def report(line: str) -> None:
            console.print(line, highlight=False)
            spinner.update(line)

        try:
            stack.up(report=report)
        except StackError as exc:
            raise _fail(exc) from None
    settings = stack.settings()
    console.print("stack is up; these are also the default URLs of the API:", highlight=False)
    for var, value in (
        ("MONGODB_URL", settings.mongodb.url),
        ("ELASTICSEARCH_URL", settings.elasticsearch.url),
        ("REDIS_URL", settings.redis.url),
    ):
        typer.echo(f"{var}={value}")


@app.command()
def status() -> None:
    """Print each store's own version string and URL; exit 1 if any is down."""
    stack = Stack()
    rows = stack.status()
    implementations = {server.name: server.implementation for server in stack.servers}
    for store, owner in rows:
        state = f"up ({owner})" if store.up else f"down ({owner})"
        what = store.version if store.up else store.error
        runs = f"  [{implementations[store.name]}]" if owner == "stack" else ""
        rtt = f"{store.rtt_ms:.1f} ms" if store.rtt_ms is not None else "-"
        typer.echo(f"{store.name:<14}{state:<16}{what}  {store.url}  {rtt}{runs}")
    if not all(store.up for store, _ in rows):
        raise typer.Exit(code=1)


@app.command()
def down() -> None:
    """Stop the servers this stack started (by pid file); leave anything else alone."""
    try:
        Stack().down(report=lambda line: console.print(line, highlight=False))
    except StackError as exc:
        raise _fail(exc) from None
