"""GET /api/v1/psa_health/: public liveness of the database, Redis, queues and workers."""
from __future__ import annotations

from flask_appbuilder.api import BaseApi, expose

from plugin.commands.health import CheckHealthCommand


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
            200 when the database and Redis answer and at least one worker serves the
            queues; 503 otherwise. Public: no tenant data.
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
                      redis: {type: boolean}
                      workers: {type: integer}
                      queues: {type: object, additionalProperties: {type: integer}}
                      errors: {type: array, items: {type: string}}
            503:
              description: Degraded (same body)
        """
        health = CheckHealthCommand().run()
        return self.response(
            200 if health.ok else 503, status="ok" if health.ok else "degraded", database=health.database,
            redis=health.redis, workers=health.workers, queues=health.queues, errors=health.errors,
        )
