"""`estateops serve` speaks HTTPS when ESTATEOPS_API__SSL_CERTFILE/KEYFILE are set; a
client trusting the test CA gets in, plain HTTP on that port does not."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from estateops.settings import Settings
from tests.utils.api_server import serving_api
from tests.utils.tls import make_test_ca


def test_the_api_serves_https_with_the_configured_certificate(tmp_path: Path) -> None:
    certificates = make_test_ca(tmp_path / "tls")
    settings = {"ESTATEOPS_API__SSL_CERTFILE": str(certificates.cert_file),
                "ESTATEOPS_API__SSL_KEYFILE": str(certificates.key_file)}
    with serving_api(tmp_path, settings) as api:
        trusting = ssl.create_default_context(cafile=str(certificates.ca_file))
        with httpx.Client(verify=trusting, timeout=10) as client:
            me = client.get(f"{api.url('https')}/api/v1/auth/me",
                            headers={"Authorization": api.authorization})
            assert me.status_code == 200, me.text
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{api.url('https')}/healthz", timeout=10)  # system CAs only
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{api.url('http')}/healthz", timeout=10)


def test_https_needs_both_certificate_and_key() -> None:
    with pytest.raises(ValueError, match="both ssl_certfile and ssl_keyfile"):
        Settings(api={"ssl_certfile": "/etc/cert.pem"})
