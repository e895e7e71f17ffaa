"""A public host in a temporary directory: keys, inbox, state, and snapshots to publish."""

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from public_mirror import main as mirror_main
from public_mirror.receive import receive_once
from public_mirror.settings import load
from transfer.build import sign_snapshot
from transfer.keys import generate_lookup_key, generate_signing_key
from transfer.lookup import lookup_key, lookup_key_id
from transfer.snapshot import PAYLOAD_TYPE, day_number, format_time

JST = ZoneInfo("Asia/Tokyo")

ORIGIN = "142158:prod"
# The shared limiter counts in fixed windows on the wall clock, and a window's turn forgives
# most of the one before (its sliding estimate). A test that fails a lookup and expects the
# next to be refused seconds later would pass or fail by where the clock stood: with this
# window the next turn is in 2033. Tests of the turn itself give the limiter a clock.
WINDOW_THAT_NEVER_TURNS = str(10**9)
STATUSES = [
    {"code": "received", "final": False, "dates": [], "wording": {
        "ja": {"label": "受け付けました", "explanation": "申請書を受け付けました。", "next_step": "お待ちください。"},
        "en": {"label": "Received", "explanation": "We have your application.", "next_step": "Please wait."},
        "ja-easy": {"label": "うけつけました", "explanation": "{申請書|しんせいしょ}を うけとりました。", "next_step": "まって ください。"}}},
    {"code": "payment_scheduled", "final": False, "dates": ["scheduled_payment_on"], "wording": {
        "ja": {"label": "振込予定です", "explanation": "振り込む日が決まりました。", "next_step": "口座をご確認ください。"},
        "en": {"label": "Payment scheduled", "explanation": "The date is set.", "next_step": "Check your account."},
        "ja-easy": {"label": "ふりこむ {日|ひ}が きまりました", "explanation": "{日|ひ}が きまりました。", "next_step": "{口座|こうざ}を {見|み}て ください。"}}},
    {"code": "deficient", "final": False, "dates": [], "action_needed": True, "wording": {
        "ja": {"label": "書類に不備があります", "explanation": "書類が足りません。", "next_step": "返送した書類を直して送ってください。"},
        "en": {"label": "Something is missing", "explanation": "A document is missing.", "next_step": "Please send the papers back."},
        "ja-easy": {"label": "{書類|しょるい}が たりません", "explanation": "{書類|しょるい}が たりません。", "next_step": "{書類|しょるい}を もう {一度|いちど} おくって ください。"}}},
]
PROGRAMMES = [
    {"code": "p2020", "name": {"ja": "特別定額給付金", "en": "Special Cash Payment"},
     "needs_birth_date": False, "lookup_opens_on": None, "lookup_closes_on": None,
     "receipt_digits_only": True, "progress": {"applications": 1200, "paid": 1020}},
    {"code": "p2024", "name": {"ja": "物価高騰対策給付金", "en": "Price Relief Payment"},
     "needs_birth_date": True, "lookup_opens_on": None, "lookup_closes_on": None,
     "receipt_digits_only": False, "progress": None},   # too few to publish counts
]
# The same programmes with names in やさしい日本語, furigana as staff type it (transfer.ruby).
EASY_NAMES = {"p2020": "{特別|とくべつ}に くばる お{金|かね}",
              "p2024": "{物価|ぶっか}が {高|たか}く なった ときの {給付金|きゅうふきん}"}
PROGRAMMES_EASY = [{**p, "name": {**p["name"], "ja-easy": EASY_NAMES[p["code"]]}}
                   for p in PROGRAMMES]
BIRTH = date(1980, 4, 1)
# Format 2: p2020's kinds of deficiency, 返送先 and 同封するもの (furigana on やさしい日本語).
KINDS = [
    {"code": "id_copy", "bit": 0, "wording": {
        "ja": "本人確認書類の写し", "en": "A copy of your identity document",
        "ja-easy": "あなたが だれか わかる {書類|しょるい}の コピー"}},
    {"code": "bank_proof", "bit": 1, "wording": {
        "ja": "振込先口座の確認書類", "en": "A document showing your bank account",
        "ja-easy": "{口座|こうざ}が わかる {書類|しょるい}"}},
    {"code": "signature", "bit": 2, "wording": {
        "ja": "申請書への署名", "en": "Your signature on the form",
        "ja-easy": "{申請書|しんせいしょ}の {署名|しょめい}"}},
]
RETURN_TO = {"ja": "〒252-5277 テスト市中央2-11-15 給付金担当",
             "en": "Benefit Office, 2-11-15 Chuo, Test City 252-5277",
             "ja-easy": "〒252-5277 テスト{市|し} {給付金|きゅうふきん}の {係|かかり}"}
ENCLOSE = {"ja": "お送りした返信用封筒に入れてください。",
           "en": "Please use the return envelope we sent.",
           "ja-easy": "{送|おく}った {封筒|ふうとう}に いれて ください。"}
PROGRAMMES_V2 = [{**PROGRAMMES[0], "deficiency_kinds": KINDS, "return_to": RETURN_TO,
                  "enclose": ENCLOSE}, PROGRAMMES[1]]


def _day(value: date | None) -> int:
    return day_number(value) if value else 0


def _more_row(secret, version, programme, number, index, scheduled=None, paid=None, kinds=0,
              sent=None, by=None) -> tuple:
    """One of ``PublicHost.snapshot``'s ``more`` entries as the tuple it signs; the action
    details only in format 2 (format 1 has no place for them)."""
    row = (lookup_key(secret, programme, number), index, _day(scheduled), _day(paid))
    return (*row, kinds, _day(sent), _day(by)) if version == 2 else row


@dataclass
class PublicHost:
    root: Path
    sequence: int = 100
    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        keys = self.root / "keys"
        keys.mkdir()
        self.signing_key = generate_signing_key(keys / "sign.key", keys / "sign.key.pub")
        self.secret = generate_lookup_key(keys / "lookup.key")
        self.settings = {
            "mirror.inbox": str(self.root / "inbox"), "mirror.quarantine": str(self.root / "quarantine"),
            "mirror.state": str(self.root / "state"), "mirror.trusted_keys": str(keys / "sign.key.pub"),
            "mirror.lookup_key": str(keys / "lookup.key"), "mirror.origin": ORIGIN,
            "mirror.rate_limit": "20", "mirror.rate_window": WINDOW_THAT_NEVER_TURNS,
            "site.municipality_name": "テスト市", "site.contact": "0120-000-000",
            "site.municipality_name.en": "Test City", "site.municipality_name.ja-easy": "テスト{市|し}",
            "site.contact.en": "0120-000-000", "site.contact.ja-easy": "0120-000-000",
        }
        (self.root / "inbox").mkdir()

    def snapshot(self, *, sequence=None, created=None, valid=timedelta(hours=72),
                 programmes=None, key=None, keys=None, statuses=STATUSES,
                 header=None, status_of_first=None, padding=0, secret=None, more=(),
                 version=1, filler=0) -> bytes:
        """Numbers 00000001..00000010 in p2020 (odd: received, even: scheduled 2020-07-10),
        00000011 (deficient: the resident must act);
        00000001 in p2024 with birth date 1980-04-01. ``header`` overrides header fields
        after the usual ones (for validly signed but malformed snapshots);
        ``status_of_first`` forces the status index of the first entry; ``padding`` adds
        that many entries no one can look up (a bigger file); ``filler``: as many random
        keys (a city-sized file in seconds, where ``padding`` hashes each); ``secret``: another
        lookup key than the host's first; ``more``: more entries, each (programme, number,
        status index, scheduled payment date, paid date[, kind bits, sent date, return-by
        date]).

        ``version=2``: the current format, with action details — 00000011 is missing an ID
        copy and a signature, sent 10 days ago, due in 10 days; 00000012 (deficient, bank
        proof) was due 3 days ago; and p2020 has its kinds, 返送先 and 同封するもの."""
        secret = secret or self.secret
        if programmes is None:
            programmes = PROGRAMMES_V2 if version == 2 else PROGRAMMES
        if sequence is None:
            self.sequence += 1
            sequence = self.sequence
        created = created or datetime.now(UTC).replace(microsecond=0)
        rows = [(lookup_key(secret, "p2020", f"{n:08d}"), n % 2 == 0,
                 day_number(date(2020, 7, 10)) if n % 2 == 0 else 0, 0) for n in range(1, 11)]
        rows.append((lookup_key(secret, "p2024", "00000001", BIRTH), 0, 0, 0))
        rows.append((lookup_key(secret, "p2020", "00000011"), 2, 0, 0))   # must act
        rows += [(lookup_key(secret, "p2020", f"X{n:08d}"), 0, 0, 0) for n in range(padding)]
        noise = os.urandom(16 * filler)
        rows += [(noise[at:at + 16], 0, 0, 0) for at in range(0, len(noise), 16)]
        if version == 2:
            today = datetime.now(JST).date()
            rows = [(*row, 0, 0, 0) for row in rows]
            rows[-1 - padding] = (*rows[-1 - padding][:4], 0b101, day_number(today - timedelta(10)),
                                  day_number(today + timedelta(10)))
            rows.append((lookup_key(secret, "p2020", "00000012"), 2, 0, 0, 0b10,
                         day_number(today - timedelta(24)), day_number(today - timedelta(3))))
        rows += [_more_row(secret, version, *entry) for entry in more]
        fields = {"format": version, "payload_type": PAYLOAD_TYPE,
                  "origin": {"municipality": "142158", "environment": "prod"},
                  "sequence": sequence, "created_at": format_time(created),
                  "expires_at": format_time(created + valid), "lookup_key_id": lookup_key_id(secret),
                  "programmes": programmes, "statuses": statuses, **(header or {})}
        entries = sorted((k, int(s), *rest) for k, s, *rest in rows)
        if status_of_first is not None:
            entries[0] = (entries[0][0], status_of_first, *entries[0][2:])
        return sign_snapshot(entries, 0, signing_keys=keys or [key or self.signing_key],
                             header=fields).data

    def drop(self, data: bytes, name="snapshot.bin"):
        (self.root / "inbox" / name).write_bytes(data)

    def receive(self):
        loaded = load(dict(self.settings))
        return receive_once(loaded["mirror.paths"], loaded["mirror.trust"])

    def publish(self, **kw):
        self.drop(self.snapshot(**kw))
        return self.receive()

    def write_ini(self, **overrides) -> Path:
        """The settings as an ini file, for the ``shinsei-mirror`` command."""
        ini = self.root / "mirror.ini"
        lines = ["[app:main]", "use = egg:shinsei-status#mirror",
                 *(f"{k} = {v}" for k, v in {**self.settings, **overrides}.items())]
        ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ini

    def app(self, **overrides):
        import webtest

        return webtest.TestApp(mirror_main({}, **{**self.settings, **overrides}),
                               extra_environ={"REMOTE_ADDR": "198.51.100.7"})


def without_proof(body: bytes) -> bytes:
    """An answer page with its language buttons' proof of a repeat (``public_mirror.repeat``,
    a MAC over the resident's own question) blanked, to compare two residents' pages."""
    return re.sub(rb'(name="asked" value=")[0-9a-f]*(")', rb"\1\2", body)
