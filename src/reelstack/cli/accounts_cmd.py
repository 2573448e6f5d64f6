"""``reelstack users ...``, ``reelstack keys ...`` and ``reelstack plans ...``: operator
commands for accounts, token-signing keys and plans (they talk to the database)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from reelstack.config import get_settings

users_app = typer.Typer(help="Accounts: create operators and viewers.", no_args_is_help=True)
keys_app = typer.Typer(help="Access-token signing keys.", no_args_is_help=True)
plans_app = typer.Typer(help="Subscription plans.", no_args_is_help=True)
oauth_app = typer.Typer(help="The OAuth 2 / OpenID Connect server.", no_args_is_help=True)
clients_app = typer.Typer(
    help="OAuth clients (TV apps, mobile apps, partners).", no_args_is_help=True
)
oauth_app.add_typer(clients_app, name="clients")
console = Console(stderr=True)


@users_app.command("create")
def create_user(
    email: Annotated[str, typer.Option("--email")],
    password: Annotated[str, typer.Option("--password", prompt=True, hide_input=True)],
    role: Annotated[
        str, typer.Option("--role", help="admin, editor, support or viewer")
    ] = "viewer",
    plan: Annotated[str | None, typer.Option("--plan", help="Subscribe to this plan code")] = None,
) -> None:
    """Create a verified account (and subscribe it to --plan); prints its id as JSON."""
    from pydantic import TypeAdapter, ValidationError

    from reelstack.accounts import service as accounts
    from reelstack.accounts.models import Role
    from reelstack.accounts.schemas import Password
    from reelstack.billing import service as billing
    from reelstack.db import session_scope
    from reelstack.errors import AppError
    from reelstack.runtime import build_runtime

    try:
        checked_role = Role(role)
        TypeAdapter(Password).validate_python(password)
    except (ValueError, ValidationError) as exc:
        console.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from exc
    runtime = build_runtime(get_settings())
    try:
        with session_scope(runtime.sessions) as session:
            user = accounts.create_user(
                session=session, email=email, password=password, role=checked_role, verified=True
            )
            if plan:
                billing.grant_subscription(session=session, user_id=user.id, plan_code=plan)
            out = {"id": user.id, "email": user.email, "role": str(user.role), "plan": plan}
    except AppError as exc:
        console.print(f"error: {exc.detail}", markup=False)
        raise typer.Exit(1) from exc
    finally:
        runtime.close()
    typer.echo(json.dumps(out))


@keys_app.command("rotate")
def rotate_keys() -> None:
    """Make a new signing key and retire the others. Running API processes sign with it
    within a minute; tokens of the retired keys verify until they expire."""
    from reelstack.accounts import keys
    from reelstack.accounts.identity import token_key_secret
    from reelstack.db import session_scope
    from reelstack.runtime import build_runtime

    settings = get_settings()
    runtime = build_runtime(settings)
    try:
        with session_scope(runtime.sessions) as session:
            pruned = keys.prune(
                session=session,
                access_ttl_s=settings.access_token_ttl_s,
                leeway_s=settings.token_leeway_s,
            )
            row = keys.rotate(session=session, secret=token_key_secret(settings))
            kid = row.kid
    finally:
        runtime.close()
    typer.echo(json.dumps({"kid": kid, "pruned": pruned}))


@plans_app.command("seed-demo")
def seed_plans() -> None:
    """Create the Basic, Standard and Premium demo plans where missing."""
    from reelstack.billing import service as billing
    from reelstack.db import session_scope
    from reelstack.runtime import build_runtime

    runtime = build_runtime(get_settings())
    try:
        with session_scope(runtime.sessions) as session:
            codes = [plan.code for plan in billing.ensure_demo_plans(session=session)]
    finally:
        runtime.close()
    typer.echo(json.dumps({"plans": codes}))


@clients_app.command("create")
def create_client(
    name: Annotated[str, typer.Option("--name")],
    public: Annotated[
        bool,
        typer.Option(
            "--public/--confidential",
            help="A public client has no secret (a TV or mobile app); confidential: a server",
        ),
    ],
    grant: Annotated[
        list[str], typer.Option("--grant", help="authorization_code or device_code (repeatable)")
    ],
    redirect_uri: Annotated[
        list[str] | None, typer.Option("--redirect-uri", help="Exact redirect URI (repeatable)")
    ] = None,
    client_id: Annotated[str | None, typer.Option("--client-id", help="Default: random")] = None,
    device_type: Annotated[
        str, typer.Option("--device-type", help="web, tv, mobile, tablet, console or other")
    ] = "other",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only")] = False,
) -> None:
    """Register a client. A refresh grant is included; a confidential client's secret is
    printed once and stored only as a hash."""
    from reelstack.accounts.models import DeviceType
    from reelstack.db import session_scope
    from reelstack.errors import AppError
    from reelstack.oauth import service as oauth
    from reelstack.runtime import build_runtime

    try:
        kind = DeviceType(device_type)
    except ValueError as exc:
        console.print(f"error: unknown device type {device_type!r}", markup=False)
        raise typer.Exit(2) from exc
    runtime = build_runtime(get_settings())
    try:
        with session_scope(runtime.sessions) as session:
            created = oauth.create_client(
                session=session,
                name=name,
                public=public,
                grants=grant,
                redirect_uris=redirect_uri or [],
                client_id=client_id,
                device_type=kind,
            )
    except AppError as exc:
        console.print(f"error: {exc.detail}", markup=False)
        raise typer.Exit(1) from exc
    finally:
        runtime.close()
    out = {"client_id": created.client_id, "client_secret": created.client_secret}
    if not as_json:
        console.print(f"registered {created.name} ({'public' if public else 'confidential'})")
    typer.echo(json.dumps(out))


@clients_app.command("list")
def list_clients() -> None:
    """Every registered client, as JSON lines."""
    from reelstack.db import session_scope
    from reelstack.oauth import service as oauth
    from reelstack.runtime import build_runtime

    runtime = build_runtime(get_settings())
    try:
        with session_scope(runtime.sessions) as session:
            clients = oauth.list_clients(session=session)
    finally:
        runtime.close()
    for client in clients:
        typer.echo(client.model_dump_json())


def register(app: typer.Typer) -> None:
    app.add_typer(oauth_app, name="oauth")
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")
    app.add_typer(plans_app, name="plans")
