"""`beatstream stack up|status|down`: the local service stack, without Docker (development only)."""

from __future__ import annotations

import typer
from rich.console import Console

from devstack.cluster import ClusterStack
from devstack.manager import Stack
from devstack.process import StackError

app = typer.Typer(
    help="Install, start, inspect and stop real MongoDB-wire, Elasticsearch and "
    "Redis servers on loopback.",
    no_args_is_help=True,
)
console = Console(stderr=True)

CLUSTER_HELP = (
    "The 3-node Elasticsearch cluster and the Redis Cluster (3 primaries + 3 replicas) "
    "instead of the single-node stack, which is left alone."
)


def _fail(exc: StackError) -> typer.Exit:
    console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
    return typer.Exit(code=1)


@app.command()
def up(cluster: bool = typer.Option(False, "--cluster", help=CLUSTER_HELP)) -> None:
    """Install (first run only) and start every server that is not running yet."""
    if cluster:
        _cluster_up()
        return
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


def _cluster_up() -> None:
    cluster = ClusterStack()
    try:
        cluster.up(report=lambda line: console.print(line, highlight=False))
    except StackError as exc:
        raise _fail(exc) from None
    console.print("cluster is up; point the API (or the tests) at it with:", highlight=False)
    for var, value in cluster.environment().items():
        typer.echo(f"{var}={value}")


def _cluster_status() -> None:
    cluster = ClusterStack()
    states = cluster.states()
    for node in states:
        state = "up" if node.ready else ("starting" if node.pid else "down")
        pid = f"pid {node.pid}" if node.pid else "-"
        typer.echo(
            f"{node.name:<16}{state:<10}{pid:<12}{node.rss_bytes / 2**20:7.0f} MiB  {node.url}"
        )
    typer.echo(f"elasticsearch health: {cluster.es_health()}")
    typer.echo(f"total resident memory: {sum(n.rss_bytes for n in states) / 2**20:.0f} MiB")
    if not all(node.ready for node in states):
        raise typer.Exit(code=1)


@app.command()
def status(cluster: bool = typer.Option(False, "--cluster", help=CLUSTER_HELP)) -> None:
    """Print each store's own version string and URL; exit 1 if any is down."""
    if cluster:
        _cluster_status()
        return
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
def down(cluster: bool = typer.Option(False, "--cluster", help=CLUSTER_HELP)) -> None:
    """Stop the servers this stack started (by pid file); leave anything else alone."""
    try:
        if cluster:
            ClusterStack().down(report=lambda line: console.print(line, highlight=False))
            return
        Stack().down(report=lambda line: console.print(line, highlight=False))
    except StackError as exc:
        raise _fail(exc) from None
