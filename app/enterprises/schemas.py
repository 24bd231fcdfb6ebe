from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class RegisterEnterprise(BaseModel):
    name: str = Field(min_length=2, max_length=200, description="Registered name (企业名称).")
    uscc: str = Field(max_length=32, description="统一社会信用代码, 18 characters (GB 32100-2015).")


class AddAdmin(BaseModel):
    phone: str = Field(max_length=20, description="Phone number of an existing, real-name-verified account.")


class EnterpriseAdminOut(BaseModel):
    user_id: str
    phone: str
    added_at: datetime


class EnterpriseOut(BaseModel):
    id: str
    name: str
    uscc: str
    subject_id: str
    created_at: datetime
    admins: list[EnterpriseAdminOut]
