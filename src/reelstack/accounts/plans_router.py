"""Plans: listed publicly (/v1/plans), created by admins (/v1/admin/plans).

Billing owns plans; their routes live here because the admin guard (reelstack.security)
knows accounts, which sit above billing in the layers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from reelstack.billing import service
from reelstack.billing.models import BillingPeriod
from reelstack.billing.schemas import PlanOut
from reelstack.deps import DbSession
from reelstack.problems import responses
from reelstack.security import require_admin_role

router = APIRouter(prefix="/plans", tags=["plans"])
admin_router = APIRouter(
    prefix="/plans",
    tags=["admin: plans"],
    dependencies=[Depends(require_admin_role)],
    responses=responses(403),
)


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    price_minor: Annotated[int, Field(ge=0, le=10_000_000)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    period: BillingPeriod = BillingPeriod.MONTH
    max_streams: Annotated[int, Field(ge=1, le=100)]
    max_profiles: Annotated[int, Field(ge=1, le=20)]
    max_devices: Annotated[int, Field(ge=1, le=100)]
    max_height: Annotated[int, Field(ge=144, le=4320)]


@router.get("", response_model=list[PlanOut], operation_id="listPlans")
def list_plans(session: DbSession) -> list[PlanOut]:
    return service.list_plans(session=session)


@admin_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanOut,
    operation_id="adminCreatePlan",
    responses=responses(409),
)
def create_plan(body: PlanIn, session: DbSession) -> PlanOut:
    return service.create_plan(session=session, **body.model_dump())
