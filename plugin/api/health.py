"""GET /api/v1/psa_health/: public liveness of the database, Redis, queues and workers."""

from __future__ import annotations

from flask_appbuilder.api import BaseApi, expose

from msphub_psa.commands.health import CheckHealthCommand


class HealthApi(BaseApi):
    """Operators' health endpoint; it names no tenant and no secret."""

    resource_name = "psa_health"
    openapi_spec_tag = "Operations"

    @expose("/", methods=["GET"])
    def get(self):
        """Health of the integration's dependencies.
        ---
        get:
          description: >-
            200 when the database answers (the plugin's schema at head, the marketplace contract
            satisfied), Redis answers and at least one worker serves the queues; 503 otherwise.
            Public: no tenant data (``flask psa health`` prints the details).
          responses:
            200:
              description: Healthy
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      status: {type: string, enum: [ok, degraded]}
                      database: {type: boolean}
                      schema: {type: boolean, description: "the plugin's tables at head, the marketplace contract satisfied"}
                      redis: {type: boolean}
                      workers: {type: integer}
                      queues: {type: object, additionalProperties: {type: integer}}
                      errors: {type: array, items: {type: string}}
            503:
              description: Degraded (same body)
        """
        health = CheckHealthCommand().run()
        return self.response(
            200 if health.ok else 503,
            status="ok" if health.ok else "degraded",
            database=health.database,
            schema=health.schema_ok,
            redis=health.redis,
            workers=health.workers,
            queues=health.queues,
            errors=public_errors(health.errors),
        )


def public_errors(errors: list[str]) -> list[str]:
    """The errors without the names of the host's relations (the CLI prints those)."""
    contract = [e for e in errors if e.startswith("contract:")]
    shown = [e for e in errors if not e.startswith("contract:")]
    return shown + ([f"contract: {len(contract)} problem(s); `flask psa health` names them"] if contract else [])
