"""The OpenAPI 3.1 document of the JSON lookup (served at /api/v1/openapi.json)."""

_ACTION = {
    "type": "object",
    "required": ["missing", "return_to", "enclose", "return_by", "documents_sent_on", "overdue",
                 "contact"],
    "properties": {
        "missing": {"type": "array", "items": {"type": "string"},
                    "description": "what is missing, in the language asked, plain text"},
        "return_to": {"type": ["string", "null"], "description": "where to send the papers"},
        "enclose": {"type": ["string", "null"], "description": "what to enclose"},
        "return_by": {"type": ["string", "null"], "format": "date",
                      "description": "the deadline (the day itself still counts)"},
        "documents_sent_on": {"type": ["string", "null"], "format": "date",
                              "description": "when the city sent the letter"},
        "overdue": {"type": "boolean", "description": "the deadline has passed (Japan time)"},
        "contact": {"type": ["string", "null"],
                    "description": "whom to call, when the deadline has passed"},
    },
    "additionalProperties": False,
}

_ANSWER = {
    "type": "object",
    "required": ["result"],
    "properties": {
        "result": {"type": "string",
                   "enum": ["found", "not_found", "closed", "invalid", "rate_limited",
                            "unavailable", "refused"]},
        "as_of": {"type": "string", "format": "date-time"},
        "status": {"type": "string"},
        "programme": {"type": "string", "description": "the programme searched"},
        "receipt_number_masked": {"type": "string",
                                  "description": "the number checked, all but its last four "
                                                 "characters masked"},
        "action_needed": {"type": "boolean",
                          "description": "true when the resident has to do something"},
        "label": {"type": "string", "description": "in the language asked (lang: ja, en, "
                                                   "ja-easy), plain text without furigana"},
        "explanation": {"type": "string"},
        "next_step": {"type": "string"},
        "scheduled_payment_on": {"type": ["string", "null"], "format": "date"},
        "paid_on": {"type": ["string", "null"], "format": "date"},
        "action": {"oneOf": [{"type": "null"}, _ACTION],
                   "description": "for a status that needs the resident's action, when the "
                                  "city set what is missing, where to send it and by when"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        "retry_after": {"type": "integer"},
        "reason": {"type": "string"},
    },
}

_HEALTH = {
    "type": "object",
    "required": ["status", "version", "sequence", "created_at", "age_seconds", "last_refusal"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "stale", "none", "broken", "maintenance",
                                              "mismatch", "receiver_stopped"]},
        "activating": {"type": "string", "description": "an activation under way: the "
                       "snapshot before it answers meanwhile"},
        "version": {"type": "string", "description": "the running build (e.g. after an upgrade)"},
        "sequence": {"type": ["integer", "null"]},
        "created_at": {"type": ["string", "null"], "format": "date-time"},
        "generated_at": {"type": ["string", "null"], "description": "same as created_at"},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "age_seconds": {"type": ["integer", "null"]},
        "problem": {"type": ["string", "null"]},
        "last_refusal": {"type": ["object", "null"], "properties": {
            "at": {"type": ["string", "null"]}, "file": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]}}},
        "receiver": {"type": "object", "description": "from its files: stopped when a file "
                     "has waited too long in the inbox", "properties": {
                         "state": {"type": "string", "enum": ["ok", "stopped", "unknown"]},
                         "problem": {"type": ["string", "null"]},
                         "last_attempt": {"type": ["object", "null"], "properties": {
                             "at": {"type": ["string", "null"]},
                             "outcome": {"type": ["string", "null"]}}},
                         "last_refusal": {"type": ["object", "null"]}}},
    },
}

_PROGRESS = {
    "type": "object",
    "required": ["result"],
    "properties": {
        "result": {"type": "string", "enum": ["progress", "unavailable"]},
        "as_of": {"type": "string", "format": "date-time"},
        "programmes": {"type": "array", "items": {"type": "object", "properties": {
            "programme": {"type": "string"},
            "name": {"type": "object", "additionalProperties": {"type": "string"},
                     "description": "per language (ja, en, ja-easy), plain text without "
                                    "the furigana the page shows"},
            "paid_percent": {"type": ["integer", "null"],
                             "description": "null when the programme has too few applications"},
            "applications": {"type": ["integer", "null"]},
            "paid": {"type": ["integer", "null"]}}}},
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
                                   ("403", "sent by another site's page in a browser "
                                           "(Sec-Fetch-Site or Origin): refused, nothing counted"),
                                   ("429", "too many lookups from this address"),
                                   ("503", "no current data (being updated or maintenance)"))
            },
        }},
        "/api/v1/progress": {"get": {
            "operationId": "progress",
            "description": "Per programme, the share of applications paid, as of the data's "
                           "time; counts are published only for programmes with enough "
                           "applications.",
            "responses": {code: {"description": text, "content": {"application/json": {
                "schema": _PROGRESS}}}
                for code, text in (("200", "the share paid per programme"),
                                   ("503", "no current data"))},
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
