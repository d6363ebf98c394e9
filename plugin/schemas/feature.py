"""Feature toggle schemas."""

from marshmallow import Schema, fields

from msphub_psa.schemas.base import Integer, String


class FeaturePutSchema(Schema):
    """Body of PUT /api/v1/psa_features/<partner_id>."""

    enabled = fields.Boolean(required=True, metadata={"description": "Turn the integration on or off"})


class FeatureSchema(Schema):
    """One partner's toggle."""

    partner_id = Integer()
    partner_name = String()
    enabled = fields.Boolean()
    changed_at = fields.DateTime(allow_none=True)
