"""The OpenAPI 3.1 document of the JSON lookup (served at /api/v1/openapi.json)."""

_ANSWER = {
    "type": "object",
    "required": ["result"],
    "properties": {
        "result": {"type": "string",
                   "enum": ["found", "not_found", "closed", "invalid", "rate_limited",
                            "unavailable"]},
        "as_of": {"type": "string", "format": "date-time"},
        "status": {"type": "string"},
        "label": {"type": "string"},
        "explanation": {"type": "string"},
        "next_step": {"type": "string"},
        "scheduled_payment_on": {"type": ["string", "null"], "format": "date"},
        "paid_on": {"type": ["string", "null"], "format": "date"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        "retry_after": {"type": "integer"},
        "reason": {"type": "string"},
    },
}

_HEALTH = {
    "type": "object",
    "required": ["status", "sequence", "created_at", "age_seconds", "last_refusal"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "stale", "none", "broken"]},
        "sequence": {"type": ["integer", "null"]},
        "created_at": {"type": ["string", "null"], "format": "date-time"},
        "generated_at": {"type": ["string", "null"], "description": "same as created_at"},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "age_seconds": {"type": ["integer", "null"]},
        "problem": {"type": ["string", "null"]},
        "last_refusal": {"type": ["object", "null"], "properties": {
            "at": {"type": ["string", "null"]}, "file": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]}}},
    },
}

OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "shinsei-status lookup", "version": "1",
             "description": "Look up the status of a benefit application by receipt number. "
                            "Receipt numbers are accepted in any width, with spaces and any dash. "
                            "Not found and a wrong birth date give the same answer."},
    "paths": {
        "/api/v1/lookup": {"post": {
            "operationId": "lookup",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["receipt_number"],
                "properties": {
                    "programme": {"type": "string", "description": "programme code; may be "
                                  "left out when the site has one programme"},
                    "receipt_number": {"type": "string", "maxLength": 64},
                    "birth_date": {"type": "string", "format": "date",
                                   "description": "YYYY-MM-DD, where the programme asks for it"},
                    "lang": {"type": "string", "enum": ["ja", "en", "ja-easy"]},
                },
                "additionalProperties": {"type": "string"},
            }}}},
            "responses": {
                code: {"description": text,
                       "content": {"application/json": {"schema": _ANSWER}}}
                for code, text in (("200", "an answer (found, not found or closed)"),
                                   ("400", "the question is malformed"),
                                   ("429", "too many lookups from this address"),
                                   ("503", "no current data (being updated or maintenance)"))
            },
        }},
        "/healthz": {"get": {
            "operationId": "health",
            "description": "For monitoring: what residents are being told (answered through a "
                           "real lookup), and the last file the host refused. Nothing personal.",
            "responses": {code: {"description": text, "content": {"application/json": {
                "schema": _HEALTH}}}
                for code, text in (("200", "serving current data"),
                                   ("503", "no snapshot, the active one has expired, or it "
                                           "cannot answer"))},
        }},
    },
}
