"""How staff log-in tokens are signed and how long they last."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

MIN_JWT_SECRET_LENGTH = 32


class AuthSettings(BaseModel):
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 key signing bearer tokens (32+ characters); the API refuses to "
        "start without it, `estateops demo` generates one",
    )
    qr_secret: SecretStr | None = Field(
        default=None,
        description="key signing residents' QR links; unset: derived from jwt_secret (then "
        "rotating jwt_secret invalidates every printed code)",
    )
    token_ttl_s: int = Field(default=8 * 3600, gt=0, description="how long a token is valid")
    failed_logins_per_account: int = Field(
        default=10, gt=0, description="failed logins of one username per window; then 429")
    failed_logins_per_address: int = Field(
        default=30, gt=0, description="failed logins from one client address per window")
    login_window_s: int = Field(default=60, gt=0, description="the window of both limits")

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(f"jwt_secret needs at least {MIN_JWT_SECRET_LENGTH} characters")
        return secret
