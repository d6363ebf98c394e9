"""Each role logs in and reaches exactly its pages."""

from __future__ import annotations

import pytest

from tests.support.web import login

PAGES = [
    "/psa/my-organization/",
    "/psa/partner-features/",
    "/customerview/list/",
    "/partnerview/list/",
    "/auditeventview/list/",
    "/psa/rq/",
    "/api/v1/psa_features/",
]
EXPECTED = {
    "admin": {
        "/psa/my-organization/": 404,
        "/psa/partner-features/": 200,
        "/customerview/list/": 200,
        "/partnerview/list/": 200,
        "/auditeventview/list/": 200,
        "/psa/rq/": 200,
        "/api/v1/psa_features/": 200,
    },
    "distributor": {
        "/psa/my-organization/": 403,
        "/psa/partner-features/": 200,
        "/customerview/list/": 403,
        "/partnerview/list/": 403,
        "/auditeventview/list/": 403,
        "/psa/rq/": 403,
        "/api/v1/psa_features/": 200,
    },
    "pilot.admin": {
        "/psa/my-organization/": 200,
        "/psa/partner-features/": 403,
        "/customerview/list/": 200,
        "/partnerview/list/": 403,
        "/auditeventview/list/": 200,
        "/psa/rq/": 403,
        "/api/v1/psa_features/": 403,
    },
    "pilot.viewer": {
        "/psa/my-organization/": 200,
        "/psa/partner-features/": 403,
        "/customerview/list/": 200,
        "/partnerview/list/": 403,
        "/auditeventview/list/": 200,
        "/psa/rq/": 403,
        "/api/v1/psa_features/": 403,
    },
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_role_page_matrix(client, username):
    login(client, username)
    got = {url: client.get(url).status_code for url in PAGES}
    assert got == EXPECTED[username]


def test_wrong_password_is_refused(client):
    from tests.support.web import csrf_token

    token = csrf_token(client)
    response = client.post("/login/", data={"username": "pilot.admin", "password": "nope", "csrf_token": token})
    assert client.get("/psa/my-organization/").status_code == 302
    assert response.status_code in (200, 302)


def test_partner_sees_only_its_customers_in_console(client, app):
    from tests.support import tenants

    with app.app_context():
        mine = tenants.first_customer(tenants.pilot().id).name
        theirs = tenants.first_customer(tenants.other().id).name
    login(client, "pilot.admin")
    html = client.get("/customerview/list/?psize_CustomerView=100").get_data(as_text=True)
    assert mine.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;") in html or mine in html
    assert theirs not in html
