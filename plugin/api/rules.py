"""REST: Configure Product Defaults (rules, default rule, preview, matching products, CW lists)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from msphub_psa import permissions
from msphub_psa.api.base import PsaApi, load
from msphub_psa.commands.rules.default import UpdateDefaultRuleCommand
from msphub_psa.commands.rules.delete import DeleteRuleCommand
from msphub_psa.commands.rules.lists import RequestListsRefreshCommand
from msphub_psa.commands.rules.matching import MatchingProductsCommand
from msphub_psa.commands.rules.move import MoveRuleCommand
from msphub_psa.commands.rules.overview import RulesOverviewCommand
from msphub_psa.commands.rules.preview import PreviewRuleChangeCommand
from msphub_psa.commands.rules.save import SaveRuleCommand
from msphub_psa.schemas import rules as schemas
from msphub_psa.schemas.base import int_arg
from msphub_psa.tenancy import require_actor


def partner_arg() -> int | None:
    """``?partner_id=`` (an Admin acting on a partner); partner users act on their own."""
    return int_arg(request.args, "partner_id")


def overview(actor) -> dict:
    """The page's data after a change."""
    return schemas.dump_overview(RulesOverviewCommand(actor, partner_arg()).run())


class RulesApi(PsaApi):
    """Custom rules in priority order and the default rule of the partner's products."""

    resource_name = "psa_rules"
    class_permission_name = permissions.RULES
    openapi_spec_tag = "Product rules"
    openapi_spec_component_schemas = (
        schemas.RulePostSchema,
        schemas.RuleOutSchema,
        schemas.MoveSchema,
        schemas.PreviewSchema,
        schemas.AttributesSchema,
    )

    @expose("/", methods=["GET"])
    @protect()
    def get_list(self):
        """The default rule, the custom rules with their counts, and the cached ConnectWise lists.
        ---
        get:
          parameters:
          - {in: query, name: partner_id, schema: {type: integer}, description: Admin only}
          responses:
            200:
              description: Default rule, rules (priority order) with counts, lists
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      default: {type: object}
                      rules: {type: array, items: {$ref: '#/components/schemas/RuleOutSchema'}}
                      total_products: {type: integer}
                      lists: {type: object}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        return self.response(200, **overview(require_actor()))

    @expose("/", methods=["POST"])
    @protect()
    def post(self):
        """Add a custom rule (at ``priority``, default last).
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/RulePostSchema'}
          responses:
            201:
              description: The id of the rule and the new page data
              content:
                application/json:
                  schema: {type: object, properties: {id: {type: integer}, default: {type: object}, rules: {type: array, items: {$ref: '#/components/schemas/RuleOutSchema'}}, total_products: {type: integer}, lists: {type: object}}}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
        """
        actor = require_actor()
        body = load(schemas.RulePostSchema(), request.get_json(silent=True))
        row = SaveRuleCommand(actor, schemas.rule_data(body), partner_id=partner_arg()).run()
        return self.response(201, id=row.id, **overview(actor))

    @expose("/<psa_id:rule_id>", methods=["PUT"])
    @protect()
    def put(self, rule_id: int):
        """Edit a custom rule's conditions, attributes and (optionally) priority.
        ---
        put:
          parameters:
          - {in: path, name: rule_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/RulePostSchema'}
          responses:
            200:
              description: The new page data
              content:
                application/json:
                  schema: {type: object, properties: {id: {type: integer}, default: {type: object}, rules: {type: array, items: {$ref: '#/components/schemas/RuleOutSchema'}}, total_products: {type: integer}, lists: {type: object}}}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
            409: {description: Changed by someone else}
        """
        actor = require_actor()
        body = load(schemas.RulePostSchema(), request.get_json(silent=True))
        SaveRuleCommand(actor, schemas.rule_data(body), rule_id=rule_id).run()
        return self.response(200, id=rule_id, **overview(actor))

    @expose("/<psa_id:rule_id>", methods=["DELETE"])
    @protect()
    def delete(self, rule_id: int):
        """Delete a custom rule (the rules below move up).
        ---
        delete:
          parameters:
          - {in: path, name: rule_id, required: true, schema: {type: integer}}
          - {in: query, name: version, schema: {type: integer}}
          responses:
            200:
              description: The new page data
              content:
                application/json:
                  schema: {type: object, properties: {default: {type: object}, rules: {type: array, items: {$ref: '#/components/schemas/RuleOutSchema'}}, total_products: {type: integer}, lists: {type: object}}}
            404: {$ref: '#/components/responses/404'}
        """
        actor = require_actor()
        DeleteRuleCommand(actor, rule_id, int_arg(request.args, "version")).run()
        return self.response(200, **overview(actor))

    @expose("/<psa_id:rule_id>/move", methods=["PUT"])
    @protect()
    def move(self, rule_id: int):
        """Change a rule's priority: ``{"priority": n}`` or ``{"direction": "up"|"down"}``.
        ---
        put:
          parameters:
          - {in: path, name: rule_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/MoveSchema'}
          responses:
            200:
              description: 'The new page data (every count updated)'
              content:
                application/json:
                  schema: {type: object, properties: {default: {type: object}, rules: {type: array, items: {$ref: '#/components/schemas/RuleOutSchema'}}, total_products: {type: integer}, lists: {type: object}}}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        actor = require_actor()
        body = load(schemas.MoveSchema(), request.get_json(silent=True))
        MoveRuleCommand(actor, rule_id, body["priority"], body["direction"]).run()
        return self.response(200, **overview(actor))

    @expose("/<psa_id:rule_id>/matching", methods=["GET"])
    @protect()
    def matching(self, rule_id: int):
        """Matching Products: the products meeting the rule's conditions, searched and paged.
        ---
        get:
          parameters:
          - {in: path, name: rule_id, required: true, schema: {type: integer}}
          - {in: query, name: page, schema: {type: integer, default: 1}}
          - {in: query, name: page_size, schema: {type: integer, default: 25}}
          - {in: query, name: q, schema: {type: string}, description: Search publisher, item type, id, title}
          responses:
            200:
              description: 'One page; claimed_by names the higher rule that classifies a product'
              content:
                application/json:
                  schema: {type: object, properties: {rule_id: {type: integer}, total: {type: integer}, page: {type: integer}, page_size: {type: integer}, pages: {type: integer}, result: {type: array, items: {type: object, properties: {id: {type: integer}, publisher: {type: string}, item_type: {type: string}, product_id: {type: string}, title: {type: string}, billing_term: {type: string, nullable: true}, billing_frequency: {type: string, nullable: true}, claimed_by: {type: object, nullable: true}}}}}}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        args = load(schemas.MatchingQuerySchema(), request.args.to_dict())
        page = MatchingProductsCommand(require_actor(), rule_id, args["page"], args["page_size"], args["q"]).run()
        return self.response(200, **schemas.dump_matching(page))

    @expose("/preview", methods=["POST"])
    @protect()
    def preview(self):
        """Preview, without saving, how counts move for a create, edit, move or delete.
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/PreviewSchema'}
          responses:
            200:
              description: 'Moves, e.g. 12 products move from Default Rule to this rule'
              content:
                application/json:
                  schema: {type: object, properties: {moves: {type: array, items: {type: object, properties: {from: {type: string}, from_label: {type: string}, to: {type: string}, to_label: {type: string}, count: {type: integer}, text: {type: string}}}}, counts: {type: object, additionalProperties: {type: integer}}, will_create: {type: array, items: {type: string}}, subject: {type: string, nullable: true}}}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        body = load(schemas.PreviewSchema(), request.get_json(silent=True))
        result = PreviewRuleChangeCommand(
            require_actor(), body["action"], schemas.rule_data(body), body["rule_id"], partner_arg(), body["direction"]
        ).run()
        return self.response(200, **schemas.dump_preview(result))

    @expose("/default", methods=["PUT"])
    @protect()
    def put_default(self):
        """Edit the default rule's category, subcategory, type and class.
        ---
        put:
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/AttributesSchema'}
          responses:
            200:
              description: The new page data
              content:
                application/json:
                  schema: {type: object, properties: {default: {type: object}, rules: {type: array, items: {$ref: '#/components/schemas/RuleOutSchema'}}, total_products: {type: integer}, lists: {type: object}}}
            400: {$ref: '#/components/responses/400'}
        """
        actor = require_actor()
        body = load(schemas.AttributesSchema(), request.get_json(silent=True))
        UpdateDefaultRuleCommand(actor, schemas.rule_data(body), partner_arg()).run()
        return self.response(200, **overview(actor))

    @expose("/lists/refresh", methods=["POST"])
    @protect()
    def refresh_lists(self):
        """Queue a refresh of the cached ConnectWise categories, subcategories and types.
        ---
        post:
          responses:
            202:
              description: 'Queued'
              content:
                application/json:
                  schema: {type: object, properties: {status: {type: string}, requested_at: {type: string, nullable: true}}}
            403: {$ref: '#/components/responses/403'}
        """
        state = RequestListsRefreshCommand(require_actor(), partner_arg()).run()
        return self.response(202, status=state.status, requested_at=schemas._iso(state.requested_at))
