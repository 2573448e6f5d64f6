"""Typed job payloads: one Pydantic model per job kind, one discriminated union.

The payload carries ids and parameters only (never file paths of one machine), so any
worker can run the job. The ``kind`` field must equal the row's ``kind``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from reelstack.db import PydanticJSON


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProcessAssetPayload(_Payload):
    kind: Literal["process_asset"] = "process_asset"
    asset_id: str


class TranscodePayload(_Payload):
    kind: Literal["transcode"] = "transcode"
    asset_id: str
    ladder: str


class PurgeMediaPayload(_Payload):
    kind: Literal["purge_media"] = "purge_media"
    asset_id: str


class AnalyticsRollupPayload(_Payload):
    kind: Literal["analytics_rollup"] = "analytics_rollup"


class AnalyticsRetentionPayload(_Payload):
    kind: Literal["analytics_retention"] = "analytics_retention"


class CatalogSchedulePayload(_Payload):
    kind: Literal["catalog_schedule"] = "catalog_schedule"
    schedule_id: str


JobPayload = Annotated[
    ProcessAssetPayload
    | TranscodePayload
    | PurgeMediaPayload
    | AnalyticsRollupPayload
    | AnalyticsRetentionPayload
    | CatalogSchedulePayload,
    Field(discriminator="kind"),
]
PAYLOAD: TypeAdapter[JobPayload] = TypeAdapter(JobPayload)


def PayloadType() -> PydanticJSON:
    """The column type of ``Job.payload``: JSON in, the typed payload out."""
    return PydanticJSON(PAYLOAD)
