"""Roles are data: what each grants."""

from msphub_psa import permissions as p


def test_admin_may_do_anything():
    assert p.role_allows([p.ADMIN], p.WRITE, p.CONSOLE)


def test_viewer_reads_but_never_writes():
    for resource in (p.INTEGRATION, p.RULES, p.RECONCILIATION, p.SYNC, p.HUB_DATA):
        assert p.role_allows([p.PARTNER_VIEWER], p.READ, resource)
        assert not p.role_allows([p.PARTNER_VIEWER], p.WRITE, resource)


def test_partner_roles_never_touch_feature_or_console():
    for role in p.PARTNER_ROLES:
        assert not p.role_allows([role], p.READ, p.FEATURE)
        assert not p.role_allows([role], p.READ, p.CONSOLE)


def test_distributor_admin_only_toggles():
    assert p.role_allows([p.DISTRIBUTOR_ADMIN], p.WRITE, p.FEATURE)
    assert not p.role_allows([p.DISTRIBUTOR_ADMIN], p.READ, p.INTEGRATION)


def test_patterns_are_anchored():
    assert not p.role_allows([p.DISTRIBUTOR_ADMIN], p.WRITE, p.FEATURE + "s")
    assert not p.role_allows([p.PARTNER_ADMIN], p.READ, "PSA Integration Secrets")
