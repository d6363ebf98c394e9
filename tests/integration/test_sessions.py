"""Sessions end server-side: after a logout, a password change or a deactivation, a copy of the session cookie
is sent to the login page (pages) or answered 401 (API); a new login works."""

from __future__ import annotations

import pytest

from tests.support.web import login

PAGE, API = "/customerview/list/", "/api/v1/psa_integration/"


def copy_session(app, client):
    """A second client carrying the first one's session cookie (a stolen or copied cookie)."""
    name = app.config["SESSION_COOKIE_NAME"]
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def assert_signed_out(app, client):
    api = copy_session(app, client).get(API)
    assert api.status_code == 401 and (api.get_json().get("message") or api.get_json().get("msg"))
    page = client.get(PAGE)
    assert page.status_code == 302 and "/login" in page.headers["Location"]


@pytest.fixture
def sessions(app):
    user = login(app.test_client(), "admin")
    thief = copy_session(app, user)
    assert user.get(PAGE).status_code == 200 and thief.get(PAGE).status_code == 200
    return user, thief


def test_logout_ends_every_copy_of_the_session(app, sessions):
    user, thief = sessions
    assert user.get("/logout/").status_code == 302
    assert_signed_out(app, thief)
    again = login(app.test_client(), "admin")
    assert again.get(PAGE).status_code == 200 and again.get(API).status_code != 401


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_a_password_change_or_deactivation_ends_the_users_sessions(app, sessions, change):
    user, thief = sessions
    with app.app_context():
        sm = app.appbuilder.sm
        account = sm.find_user(username="admin")
        if change == "password":
            sm.reset_password(account.id, "a-new-password-2026")
        else:
            account.active = False
            sm.update_user(account)
    assert_signed_out(app, thief)
    assert_signed_out(app, user)
