"""The JSON lookup, its OpenAPI document, and the health check."""


def lookup(app, status="*", **body):
    return app.post_json("/api/v1/lookup", body, status=status)


def test_found(mirror):
    answer = lookup(mirror, programme="p2020", receipt_number="０００００００２", lang="en").json
    assert answer["result"] == "found" and answer["status"] == "payment_scheduled"
    assert answer["label"] == "Payment scheduled" and answer["scheduled_payment_on"] == "2020-07-10"
    assert answer["as_of"]


def test_not_found_and_wrong_birth_date_are_identical(mirror):
    wrong = lookup(mirror, programme="p2024", receipt_number="00000001", birth_date="1980-04-02")
    missing = lookup(mirror, programme="p2024", receipt_number="00000009", birth_date="1980-04-02")
    assert wrong.status_int == missing.status_int == 200
    # Identical but for each asker's own number, masked.
    assert {**wrong.json, "receipt_number_masked": ""} == {**missing.json, "receipt_number_masked": ""}
    right = lookup(mirror, programme="p2024", receipt_number="00000001", birth_date="1980-04-01")
    assert right.json["result"] == "found"


def test_invalid_questions(mirror):
    assert lookup(mirror, status=400, receipt_number="").json["result"] == "invalid"
    assert mirror.post("/api/v1/lookup", "not json", content_type="application/json",
                       status=400).json["result"] == "invalid"
    assert mirror.post_json("/api/v1/lookup", [1, 2], status=400).json["result"] == "invalid"


def test_same_limits_as_the_page(mirror):
    for n in range(20):   # numbers no one has: failures, which alone are counted
        lookup(mirror, programme="p2020", receipt_number=f"9{n:07d}", status=200)
    refused = lookup(mirror, programme="p2020", receipt_number="00000001", status=429)
    assert refused.json["result"] == "rate_limited" and refused.headers["Retry-After"]


def test_openapi_document(mirror):
    document = mirror.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.") and "/api/v1/lookup" in document["paths"]


def test_healthz_states(public_host):
    from transfer import version

    app = public_host.app()
    empty = app.get("/healthz", status=503).json
    assert empty["status"] == "none"
    # The running build, with or without data: what an upgrade is confirmed by.
    assert empty["version"] == version.current() and empty["version"].startswith(version.BASE)
    public_host.publish()
    health = app.get("/healthz", status=200).json
    assert health["status"] == "ok" and health["sequence"] == public_host.sequence
    assert health["age_seconds"] >= 0 and health["version"] == version.current()


def test_usage_counts_hold_no_numbers_and_no_addresses(public_host):
    from public_mirror.usage import totals

    public_host.publish()
    app = public_host.app()
    for number in ("00000002", "00000004", "00000099"):
        lookup(app, programme="p2020", receipt_number=number)
    app.app.services.usage.flush()
    usage_dir = public_host.root / "state" / "usage"
    [day] = totals(usage_dir).values()
    assert day["lookups"] == 3 and day["found"] == 2 and day["not_found"] == 1
    assert day["status:payment_scheduled"] == 2
    # The rate limiter's shared file lives here too: it holds keyed hashes, not addresses.
    stored = b"".join(p.read_bytes() for p in usage_dir.iterdir())
    assert b"00000002" not in stored and b"198.51.100.7" not in stored


def test_healthz_says_broken_when_the_live_snapshot_cannot_answer(public_host):
    public_host.publish()
    app = public_host.app()

    def cannot_render(reply):
        raise KeyError("wording")

    app.app.services.pages.render_uncached = cannot_render
    health = app.get("/healthz", status=503).json
    assert health["status"] == "broken" and health["problem"] == "lookup fails: KeyError"
    assert health["sequence"] == public_host.sequence
