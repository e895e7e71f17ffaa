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
    assert "すこし まって ください" in refused.text and 'href="/?lang=ja-easy"' in refused.text


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
