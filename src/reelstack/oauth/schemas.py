from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from reelstack.accounts.schemas import Strict

UserCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=16)]
# The query string of an authorization request, as /oauth/authorize received it.
AuthorizationQuery = Annotated[str, Field(min_length=1, max_length=4096)]


class ClientOut(BaseModel):
    client_id: str
    name: str
    public: bool
    grant_types: list[str]
    redirect_uris: list[str]
    scope: str
    device_type: str
    created_at: datetime
    revoked: bool


class ClientCreated(ClientOut):
    # Shown once; None for a public client.
    client_secret: str | None


class DeviceCodeIn(Strict):
    user_code: UserCode


class DeviceApproved(BaseModel):
    client_id: str
    client_name: str
    approved: bool
    # The device registered in the household (None when denied).
    device_id: str | None


class ConsentOut(BaseModel):
    client_id: str
    client_name: str
    scope: list[str]
    redirect_uri: str | None


class ConsentIn(Strict):
    query: AuthorizationQuery
    approve: bool


class ConsentAnswer(BaseModel):
    # Where the browser goes next: the client's redirect URI with a code or an error.
    redirect_to: str
