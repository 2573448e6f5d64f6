"""Operators' account routes under /v1/admin/users: admins only (or the API key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from reelstack.accounts import api_keys, service
from reelstack.accounts.api_keys import ApiKeyCreated, ApiKeyIn, ApiKeyOut
from reelstack.accounts.models import Role, UserStatus
from reelstack.accounts.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from reelstack.accounts.schemas import UserOut
from reelstack.billing import service as billing
from reelstack.billing.schemas import RentalIn, RentalOut, SubscriptionIn, SubscriptionOut
from reelstack.deps import DbSession
from reelstack.problems import responses
from reelstack.security import Actor, require_admin_role

router = APIRouter(
    prefix="/users",
    tags=["admin: users"],
    dependencies=[Depends(require_admin_role)],
    responses=responses(403, 404),
)


class UserCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Annotated[str, Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)]
    role: Role = Role.VIEWER


class UserStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: UserStatus


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    operation_id="adminCreateUser",
    responses=responses(409),
)
def create_user(body: UserCreateIn, session: DbSession) -> UserOut:
    user = service.create_user(
        session=session, email=body.email, password=body.password, role=body.role, verified=True
    )
    return service.user_out(user)


@router.get("/{user_id}", response_model=UserOut, operation_id="adminGetUser")
def get_user(user_id: str, session: DbSession) -> UserOut:
    return service.get_user(session=session, user_id=user_id)


@router.post("/{user_id}/status", response_model=UserOut, operation_id="adminSetUserStatus")
def set_status(user_id: str, body: UserStatusIn, session: DbSession) -> UserOut:
    """Suspend or reactivate an account (a suspended account cannot play)."""
    return service.set_status(session=session, user_id=user_id, status=body.status)


@router.post(
    "/{user_id}/subscriptions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionOut,
    operation_id="adminGrantSubscription",
)
def grant_subscription(user_id: str, body: SubscriptionIn, session: DbSession) -> SubscriptionOut:
    """Subscribe the household to a plan (its previous subscription is cancelled)."""
    service.get_user(session=session, user_id=user_id)
    return billing.grant_subscription(
        session=session, user_id=user_id, plan_code=body.plan, status=body.status, days=body.days
    )


@router.get(
    "/{user_id}/subscriptions",
    response_model=list[SubscriptionOut],
    operation_id="adminListSubscriptions",
)
def list_subscriptions(user_id: str, session: DbSession) -> list[SubscriptionOut]:
    service.get_user(session=session, user_id=user_id)
    return billing.list_subscriptions(session=session, user_id=user_id)


@router.post(
    "/{user_id}/subscriptions/{subscription_id}/cancel",
    response_model=SubscriptionOut,
    operation_id="adminCancelSubscription",
)
def cancel_subscription(user_id: str, subscription_id: str, session: DbSession) -> SubscriptionOut:
    return billing.cancel_subscription(
        session=session, user_id=user_id, subscription_id=subscription_id
    )


class PurchaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_id: Annotated[str, Field(max_length=32)]


@router.post(
    "/{user_id}/purchases",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="adminGrantPurchase",
)
def grant_purchase(user_id: str, body: PurchaseIn, session: DbSession) -> Response:
    """Record a bought title (kept for good; buying twice changes nothing)."""
    service.get_user(session=session, user_id=user_id)
    billing.purchase(session=session, user_id=user_id, title_id=body.title_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{user_id}/rentals",
    status_code=status.HTTP_201_CREATED,
    response_model=RentalOut,
    operation_id="adminGrantRental",
)
def grant_rental(user_id: str, body: RentalIn, session: DbSession) -> RentalOut:
    """Rent a title to the household: a window to start, then one to finish."""
    service.get_user(session=session, user_id=user_id)
    return billing.rent(
        session=session,
        user_id=user_id,
        title_id=body.title_id,
        start_within_days=body.start_within_days,
        watch_within_hours=body.watch_within_hours,
    )


keys_router = APIRouter(
    prefix="/api-keys",
    tags=["admin: api keys"],
    dependencies=[Depends(require_admin_role)],
    responses=responses(403, 404),
)


@keys_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    operation_id="adminCreateApiKey",
)
def create_api_key(
    body: ApiKeyIn, session: DbSession, actor: Annotated[Actor, Depends(require_admin_role)]
) -> ApiKeyCreated:
    """A scoped key for server-to-server calls; ``key`` is shown in this response only."""
    created_by = actor.principal.user_id if actor.principal else None
    return api_keys.create(
        session=session, name=body.name, scopes=list(body.scopes), created_by=created_by
    )


@keys_router.get("", response_model=list[ApiKeyOut], operation_id="adminListApiKeys")
def list_api_keys(session: DbSession) -> list[ApiKeyOut]:
    return api_keys.list_keys(session=session)


@keys_router.delete("/{key_id}", response_model=ApiKeyOut, operation_id="adminRevokeApiKey")
def revoke_api_key(key_id: str, session: DbSession) -> ApiKeyOut:
    """Revoke a key at once (it stays listed, with ``revoked_at``)."""
    return api_keys.revoke(session=session, key_id=key_id)
