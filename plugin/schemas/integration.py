"""ConnectWise integration card schemas: the private key is load-only, never dumped."""

from marshmallow import Schema, fields, validate

from msphub_psa.schemas.base import Integer, String

HELP = {
    "client_id": "The Client ID received during ConnectWise registration. It cannot be modified later.",
    "company_name": "The company name exactly as in your ConnectWise account (the company id you log in "
    "with). It must match for the integration to validate.",
    "public_key": "The Public Key generated for the ConnectWise API Member (API Keys section in ConnectWise).",
    "private_key": "The Private Key generated along with the Public Key; ConnectWise shows it only once. "
    "Leave blank to keep the stored key.",
    "api_url": "The base ConnectWise API URL, found under System > My Company > Server Info in ConnectWise.",
}


class IntegrationSaveSchema(Schema):
    """Body of POST /api/v1/psa_integration/activate and PUT /api/v1/psa_integration/."""

    client_id = String(
        load_default="",
        validate=validate.Length(max=64),
        metadata={"description": HELP["client_id"] + " Optional once locked (must be unchanged)."},
    )
    company_name = String(
        required=True, validate=validate.Length(max=100), metadata={"description": HELP["company_name"]}
    )
    public_key = String(required=True, validate=validate.Length(max=100), metadata={"description": HELP["public_key"]})
    private_key = String(
        load_default="",
        load_only=True,
        validate=validate.Length(max=200),
        metadata={"description": HELP["private_key"] + " Write-only."},
    )
    api_url = String(
        required=True,
        validate=validate.Length(max=300),
        metadata={"description": HELP["api_url"] + " https only; allowed hosts only."},
    )


class IntegrationSavedSchema(Schema):
    """Answer of a save: the validation job that runs (or was already running for the same values)."""

    integration_id = Integer()
    job_id = String()
    created = fields.Boolean(metadata={"description": "False when the same values were already under validation"})
    status = fields.Nested(lambda: IntegrationStatusSchema())


class IntegrationStatusSchema(Schema):
    """The card's state; the private key appears only as ``has_private_key``."""

    partner_id = Integer()
    partner_name = String()
    feature_enabled = fields.Boolean()
    can_write = fields.Boolean()
    timezone = String()
    status = String(metadata={"description": "inactive | validating | active | invalid | deactivated"})
    status_label = String()
    validating = fields.Boolean()
    validation_kind = String(allow_none=True, metadata={"description": "activate | edit"})
    validation_job_id = String(allow_none=True)
    validation_failed = fields.Boolean()
    message = String(allow_none=True)
    hint = String(allow_none=True)
    edit_failed = fields.Boolean()
    activated_by = String(allow_none=True)
    activated_at = String(allow_none=True, metadata={"description": "ISO 8601, UTC"})
    activated_at_display = String(allow_none=True, metadata={"description": "in the user's timezone"})
    deactivated_at_display = String(allow_none=True)
    menu_visible = fields.Boolean()
    client_id = String()
    client_id_locked = fields.Boolean()
    company_name = String()
    public_key = String()
    api_url = String()
    has_private_key = fields.Boolean()
