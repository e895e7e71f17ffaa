"""Limits that stop enumeration, not help desks: failures alone count, counters are exempt."""

import pytest

from public_mirror.settings import MirrorSettingsError


def ask(app, number, status="*", **extra):
    return app.post("/lookup", {"programme": "p2020", "receipt_number": number, **extra},
                    status=status)


def test_a_counter_finding_numbers_all_day_is_never_stopped(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "3"})
    for _ in range(30):
        assert "振込予定です" in ask(app, "00000002", 200).text


def test_invalid_input_is_not_counted_but_failed_lookups_are(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "3"})
    for _ in range(10):
        ask(app, "", 400)   # typing slips tell a guesser nothing
    for n in range(3):
        ask(app, f"9000000{n}", 200)
    refused = ask(app, "00000002", 429, lang="ja-easy")
    assert "すこし まって ください" in refused.text
    back = next(form for form in refused.forms.values() if form.action == "/")
    assert back["lang"].value == "ja-easy" and back["receipt_number"].value == "00000002"


def test_the_citys_counters_are_exempt(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "2",
                             "mirror.rate_limit_exempt": "192.0.2.10 198.51.100.0/28"})
    for n in range(10):   # the test client's address, 198.51.100.7, is in the counter network
        assert ask(app, f"9000000{n}").status_int == 200
    other = public_host.app(**{"mirror.rate_limit": "2",
                               "mirror.rate_limit_exempt": "192.0.2.10"})
    for n in range(2):
        ask(other, f"9100000{n}", 200)
    ask(other, "91000009", 429)


def test_a_bad_exempt_entry_refuses_start_up_naming_the_setting(public_host):
    public_host.publish()
    with pytest.raises(MirrorSettingsError, match=r"mirror\.rate_limit_exempt"):
        public_host.app(**{"mirror.rate_limit_exempt": "city-hall"})


def switch_language(page, lang):
    """Press a language button on an answer page (a POST of the same question)."""
    return page.forms[0].submit("lang", value=lang)


def test_switching_language_on_a_not_found_answer_is_not_another_failure(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "3"})
    page = ask(app, "90000000", 200)
    assert "申請が見つかりませんでした" in page.text
    for lang in ["en", "ja-easy", "ja"] * 4:    # twelve switches, four times the limit
        page = switch_language(page, lang)
        assert page.status_int == 200 and "＊＊＊＊0000" in page.html.select_one("dl.question").text
    assert "見つかりませんでした" in page.text
    # The budget is as one failure left it: two more failures, then the limit.
    ask(app, "90000001", 200)
    last = ask(app, "90000002", 200)
    ask(app, "90000003", 429)
    # The answer that used up the budget still changes language (the same question again).
    assert "We could not find your application" in switch_language(last, "en").text


def test_the_repeat_proof_is_bound_to_the_question_and_the_address(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "2"})
    page = ask(app, "90000000", 200)
    proof = page.forms[0]["asked"].value
    assert proof and "90000000" not in proof
    # Carried with another number, or forged, it proves nothing: each of these counts.
    ask(app, "90000001", 200, asked=proof)
    ask(app, "90000002", 429, asked="0" * 32)
    # From another address the same proof is no use either.
    other = public_host.app(**{"mirror.rate_limit": "1"})
    other.extra_environ = {"REMOTE_ADDR": "203.0.113.50"}
    ask(other, "90000000", 200, asked=proof)
    ask(other, "90000000", 429, asked=proof)


def test_a_found_answer_changes_language_after_the_budget_is_used(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.rate_limit": "2"})
    found = ask(app, "00000002", 200)
    for n in range(2):
        ask(app, f"9000000{n}", 200)
    ask(app, "00000004", 429)   # the budget is used: a new question waits...
    for lang in ("en", "ja-easy"):   # ...but the answer already given changes language
        found = switch_language(found, lang)
        assert found.status_int == 200 and found.html.select_one("section.answer")


def test_an_exempt_entry_with_host_bits_is_refused_not_widened_to_its_network(public_host):
    """The attack: ``127.0.60.5/24`` meant one counter and silently exempted the whole /24."""
    with pytest.raises(MirrorSettingsError) as refused:
        public_host.app(**{"mirror.rate_limit_exempt": "192.0.2.10 127.0.60.5/24"})
    message = str(refused.value)
    assert "127.0.60.5/24" in message and "127.0.60.0/24" in message and "127.0.60.5、" in message


@pytest.mark.parametrize("origin", ["142158:prd", "142158", ":prod", "142158:staging"])
def test_a_misspelt_origin_refuses_start_up_naming_the_setting(public_host, origin):
    """Every snapshot carries 団体コード:prod or :test: a public host trusting another shape
    would refuse them all, one by one, as from elsewhere. It refuses to start instead."""
    with pytest.raises(MirrorSettingsError, match=r"mirror\.origin は 団体コード:prod") as refused:
        public_host.app(**{"mirror.origin": origin})
    assert repr(origin) in str(refused.value)
