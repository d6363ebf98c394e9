"""The private key never appears in logs, reprs or exceptions; each request is logged at DEBUG."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from msphub_psa.connectwise import CWError, NewAddition


def test_private_key_never_leaks(cw_live, caplog, capsys):
    caplog.set_level(logging.DEBUG)  # root: includes httpx and httpcore debug logs
    creds = cw_live.credentials
    secrets = {creds.private_key, creds.authorization().split()[1]}
    seen: list[str] = []
    cw_live.set_faults([{"kind": "429", "count": 1, "retry_after": 0.1}])
    with cw_live.client() as client:
        client.check_credentials()
        list(client.iter_companies(page_size=5))
        seen += [repr(client), str(client), repr(client.credentials), repr(client.api)]
        for call in (
            lambda: client.get_company(987654),
            lambda: client.create_addition(1, NewAddition(product_id=999, quantity=-1)),
        ):
            with pytest.raises(CWError) as caught:
                call()
            seen += [str(caught.value), repr(caught.value), repr(caught.value.args), repr(vars(caught.value))]
    bad = dataclasses.replace(creds, public_key="nope")
    with cw_live.client(bad) as client, pytest.raises(CWError) as refused:
        client.system_info()
    seen += [str(refused.value), repr(vars(refused.value))]
    out, err = capsys.readouterr()
    text = "\n".join([caplog.text, out, err, *seen])
    for secret in secrets:
        assert secret not in text
    assert "[REDACTED]" in caplog.text


def test_each_request_is_logged_with_status_duration_and_request_id(cw_live, caplog):
    caplog.set_level(logging.DEBUG, logger="msphub_psa.connectwise.client")
    with cw_live.client() as client:
        client.get_company(1)
    (record,) = [r for r in caplog.records if r.name == "msphub_psa.connectwise.client"]
    message = record.getMessage()
    assert "GET /company/companies/1 -> 200 in" in message and " ms " in message
    request_id = cw_live.requests()[-1]
    assert "x-cw-request-id=" in message and "x-cw-request-id=None" not in message
    assert request_id["status"] == 200
