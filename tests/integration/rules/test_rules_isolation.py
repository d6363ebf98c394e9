"""Partner A never reaches partner B's rules, whatever the route (on top of the URL-map sweep)."""

from __future__ import annotations

from msphub_psa.daos.base import session
from msphub_psa.models.rules import ProductRule
from tests.integration.rules.conftest import rule_body
from tests.support import tenants
from tests.support.integration import make_active_integration


def test_rule_ids_of_another_partner_answer_404(app, admin_api, cw_live):
    with app.app_context():
        other = tenants.other()
        make_active_integration(other.id, cw_live)  # even with B fully active, A must not reach B's rule
        row = ProductRule(
            partner_id=other.id,
            priority=1,
            category="B",
            subcategory="S",
            product_type="T",
            product_class="Agreement",
            conditions=[{"field": "publisher", "operator": "equals", "value": "Adobe"}],
        )
        session().add(row)
        session().commit()
        rule_id, other_id = row.id, other.id
    assert admin_api.send("PUT", str(rule_id), rule_body()).status_code == 404
    assert admin_api.send("DELETE", str(rule_id)).status_code == 404
    assert admin_api.send("PUT", f"{rule_id}/move", {"direction": "down"}).status_code == 404
    assert admin_api.get(f"{rule_id}/matching").status_code == 404
    assert admin_api.send("POST", "preview", {"action": "delete", "rule_id": rule_id}).status_code == 404
    assert admin_api.get(f"?partner_id={other_id}").status_code == 404
    assert admin_api.send("POST", f"?partner_id={other_id}", rule_body()).status_code == 404
    with app.app_context():
        assert session().get(ProductRule, rule_id).category == "B"
