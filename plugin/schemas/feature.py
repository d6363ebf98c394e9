"""Feature toggle schemas."""

from marshmallow import Schema, fields


class FeaturePutSchema(Schema):
    """Body of PUT /api/v1/psa_features/<partner_id>."""

    enabled = fields.Boolean(required=True, metadata={"description": "Turn the integration on or off"})


class FeatureSchema(Schema):
    """One partner's toggle."""

    partner_id = fields.Integer()
    partner_name = fields.String()
    enabled = fields.Boolean()
    changed_at = fields.DateTime(allow_none=True)
