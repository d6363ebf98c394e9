"""Credential check against the sandbox over real HTTP: each failure mode."""

from __future__ import annotations

import dataclasses

import pytest

from msphub_psa.connectwise import CWAuthError, CWCompanyNotFound
from msphub_psa.connectwise.sandbox import seed


def test_valid_credentials(cw_live_client):
    info = cw_live_client.check_credentials()
    assert info.version.startswith("v2025")
    assert cw_live_client.company_info().company_id == seed.DEMO_COMPANY_ID


def test_company_id_is_case_insensitive(cw_live):
    creds = dataclasses.replace(cw_live.credentials, company_id=seed.DEMO_COMPANY_ID.upper())
    with cw_live.client(creds) as client:
        assert client.check_credentials().version


def test_unknown_company_fails_at_companyinfo(cw_live):
    creds = dataclasses.replace(cw_live.credentials, company_id="no_such_company")
    with cw_live.client(creds) as client:
        with pytest.raises(CWCompanyNotFound):
            client.check_credentials()
        assert client.calls == {("GET", "/login/companyinfo/{companyId}"): 1}


@pytest.mark.parametrize(
    "field, value",
    [
        ("public_key", "WrongPublicKey"),
        ("private_key", "WrongPrivateKey"),
        ("public_key", seed.OTHER_PUBLIC_KEY),  # another account's member
    ],
)
def test_wrong_keys_are_refused_at_system_info(cw_live, field, value):
    creds = dataclasses.replace(cw_live.credentials, **{field: value})
    with cw_live.client(creds) as client:
        with pytest.raises(CWAuthError) as caught:
            client.check_credentials()
    assert caught.value.status == 401 and caught.value.message == "UserNotAuthenticated"
    assert caught.value.path == "/system/info"


@pytest.mark.parametrize(
    "client_id, message",
    [
        ("", "A clientId header is required."),
        ("00000000-0000-0000-0000-000000000000", "The clientId is not valid."),
    ],
)
def test_missing_or_unknown_client_id(cw_live, client_id, message):
    creds = dataclasses.replace(cw_live.credentials, client_id=client_id)
    with cw_live.client(creds) as client:
        with pytest.raises(CWAuthError) as caught:
            client.check_credentials()
    assert caught.value.code == "Unauthorized" and caught.value.message == message


def test_accounts_are_isolated(cw_live):
    other = dataclasses.replace(
        cw_live.credentials,
        company_id=seed.OTHER_COMPANY_ID,
        public_key=seed.OTHER_PUBLIC_KEY,
        private_key=seed.OTHER_PRIVATE_KEY,
    )
    with cw_live.client(other) as client:
        assert client.check_credentials()
        assert [c.name for c in client.iter_companies()] == ["Other Customer One", "Acme Corporation"]
