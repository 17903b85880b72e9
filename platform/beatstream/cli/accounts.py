"""`beatstream accounts grant --email x --role editor`: the only way an account gets a role.

Roles are never set through the API (a client cannot promote itself; request bodies
refuse unknown fields). Bootstrapping an admin is: register through the API, then
grant `admin` here, on a machine with the database's credentials.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from beanie import init_beanie
from rich.console import Console

from beatstream.auth import repository
from beatstream.auth.documents import AccountCredentials
from beatstream.auth.principals import Role
from beatstream.auth.repository import Account
from beatstream.auth.service import normalise_email
from beatstream.cli.settings import load_settings
from beatstream.errors import StoreUnavailableError
from beatstream.stores import close_stores, open_stores, require_all_up

app = typer.Typer(help="Client-app accounts (listeners, editors, admins).", no_args_is_help=True)
console = Console(stderr=True)


async def grant_role(email: str, role: Role) -> Account | None:
    settings = load_settings()
    stores = open_stores(settings)
    try:
        await require_all_up(stores, settings.startup.ping_timeout_s)
        await init_beanie(database=stores.mongo_db, document_models=[AccountCredentials])
        return await repository.set_role(normalise_email(email), role)
    finally:
        await close_stores(stores)


@app.command()
def grant(
    email: Annotated[str, typer.Option(help="The account's email, as registered.")],
    role: Annotated[Role, typer.Option(help="The role it gets (listener takes one away).")],
) -> None:
    """Set an account's role; its tokens already issued carry it within seconds."""
    try:
        account = asyncio.run(grant_role(email, role))
    except StoreUnavailableError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}", highlight=False)
        raise typer.Exit(code=1) from None
    if account is None:
        console.print("[bold red]error:[/] no account with this email", highlight=False)
        raise typer.Exit(code=1)
    bound = load_settings().security.account_cache_ttl_s
    console.print(
        f"{account.email} is now {role.value}; its tokens carry the new role within "
        f"{bound:g} s (SECURITY_ACCOUNT_CACHE_TTL_S of the API processes)",
        highlight=False,
    )
