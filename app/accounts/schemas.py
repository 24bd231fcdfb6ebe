from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, StrictBool


class OtpRequest(BaseModel):
    phone: str = Field(
        max_length=20, description="Mainland mobile number, e.g. 13800138000 or +8613800138000."
    )


class OtpSent(BaseModel):
    phone: str = Field(description="The number the code went to, masked.")
    challenge: str = Field(
        description="Send it back with the code: a code is accepted only with its challenge."
    )
    expires_in: int = Field(description="Seconds the code stays valid.")
    resend_after: int = Field(description="Seconds before another code can be requested.")


class TokenRequest(BaseModel):
    phone: str = Field(max_length=20)
    code: str = Field(max_length=12, description="The 6-digit code from the SMS.")
    challenge: str = Field(max_length=64, description="The challenge returned with the code's request.")
    cookie: StrictBool = Field(
        default=False,
        description="For browsers: the refresh token is set as an HttpOnly cookie scoped to /v1/auth "
        "instead of being returned (refresh_token is null).",
    )


class RefreshRequest(BaseModel):
    refresh_token: str | None = Field(
        default=None,
        max_length=200,
        description="Leave out to use the refresh-token cookie (the new one is then set as a cookie too).",
    )


class TokenPair(BaseModel):
    token_type: str = "Bearer"  # noqa: S105 (the scheme name, not a secret)
    access_token: str
    expires_in: int
    refresh_token: str | None = Field(description="Null in cookie mode: it is in the HttpOnly cookie.")
    refresh_expires_in: int
    user_id: str


class BindIdentityRequest(BaseModel):
    name: str = Field(min_length=2, max_length=50, description="Name as on the 身份证.")
    id_number: str = Field(max_length=32, description="18-character 身份证号 (GB 11643-1999).")


class Identity(BaseModel):
    subject_id: str
    name: str
    id_number: str = Field(description="Masked: region code and last four only.")
    bound: bool = True


class Me(BaseModel):
    id: str
    phone: str
    roles: list[str]
    identity: Identity | None
    created_at: datetime
