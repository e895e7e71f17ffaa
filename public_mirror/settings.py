"""The mirror's one settings loader. It holds no credential for anything on the intranet:
trusted public keys, the lookup HMAC key, and where its own files live."""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from pyramid.settings import asbool, aslist

from public_mirror.contrast import require_contrast
from public_mirror.i18n import available_languages
from public_mirror.lookup_keys import LookupKeys
from public_mirror.ratelimit import exempt_networks
from transfer.errors import KeyFileError
from transfer.keys import key_files, load_public_key
from transfer.verify import DEFAULT_MAX_SIZE, Origin, TrustPolicy

DEFAULTS = {
    "mirror.threshold": "1",
    "mirror.max_snapshot_bytes": str(DEFAULT_MAX_SIZE),
    "mirror.maintenance": "false",
    "mirror.maintenance_file": "",
    "mirror.rate_limit": "20",           # failed lookups per client address ...
    "mirror.rate_window": "300",         # ... per this many seconds
    "mirror.trusted_proxies": "",
    # The city's own counters and partner help desks (addresses or networks, space
    # separated): their lookups are never limited.
    "mirror.rate_limit_exempt": "",
    # Where the residents' page lives, if not at the root of its host name (e.g.
    # https://www.city.example.lg.jp/shinsei): links are built on it, never on the request.
    "mirror.public_base_url": "",
    # Shared by every worker process; empty: <state>/usage/rate-limit.table (the only
    # state folder the web unit may write).
    "mirror.rate_limit_file": "",
    # The day's counts per programme, summed over the workers, for the intranet's pusher to
    # fetch (a folder of the upload account's chroot it may read and not write); empty: none.
    "mirror.usage_report": "",
    # A sequence further ahead than this of its own created_at and of the clock is refused:
    # sequences are Unix times (or small counters), and one signed far ahead would brick
    # the host for every later snapshot.
    "mirror.max_sequence_ahead": str(7 * 24 * 3600),
    # A snapshot "created" further in the future than this is refused (clock skew allowance).
    "mirror.max_clock_skew": "3600",
    "site.municipality_name": "○○市",
    "site.municipality_name.en": "○○ City",     # for the placeholder name only (see below)
    "site.municipality_name.ja-easy": "○○{市|し}",
    "site.logo": "",
    "site.colour_text": "#ffffff",
    "site.colour_brand": "#0b4f8a",
    "site.contact": "",
    "site.hours": "",
    "site.update_schedule": "",
    "site.notice": "",
    "pyramid.default_locale_name": "ja",
}


# What residents read from the ini. Each one set in Japanese (site.contact) needs its text in
# every other language of the page (site.contact.en, site.contact.ja-easy): a page half in
# Japanese is no page for a foreign resident, so start-up refuses rather than mixes.
SITE_TEXTS = ("municipality_name", "contact", "hours", "update_schedule", "notice")
LANGUAGE_NAMES = {"en": "英語", "ja-easy": "やさしい日本語"}


class MirrorSettingsError(RuntimeError):
    pass


def site_texts(merged: dict, languages: list[str]) -> dict[str, dict[str, str]]:
    """Per language, the site's texts; raises naming the first key a language lacks."""
    base = {name: merged.get(f"site.{name}", "").strip() for name in SITE_TEXTS}
    texts = {"ja": base}
    for lang in languages:
        if lang == "ja":
            continue
        texts[lang] = {}
        for name, japanese in base.items():
            key = f"site.{name}.{lang}"
            value = merged.get(key, "").strip()
            # A placeholder in one language is no translation of a real name in another.
            placeholder = value == DEFAULTS.get(key) and japanese != DEFAULTS.get(f"site.{name}")
            if japanese and (not value or placeholder):
                raise MirrorSettingsError(
                    f"site.{name}.{lang} が設定されていません: site.{name} の"
                    f"{LANGUAGE_NAMES.get(lang, lang)}の文を設定してください"
                    f"（その言語のページが日本語まじりになるため、起動しません）。")
            texts[lang][name] = value
    return texts


def trusted_key_files(entries: list[str]) -> list[Path]:
    """Each entry is a public key file, or a directory whose *.pub files are all trusted."""
    files = key_files(entries, ("*.pub",))
    if not files:
        raise KeyFileError("mirror.trusted_keys names no public key")
    return files


def _trust_source(settings):
    """A callable that reads the trusted keys again: a key dropped into (or removed from)
    a trusted directory takes effect with the next snapshot, without a restart."""
    entries = aslist(settings["mirror.trusted_keys"])
    try:
        origin = Origin.checked(settings["mirror.origin"])
    except ValueError as wrong:
        raise MirrorSettingsError(f"mirror.origin は {wrong}") from None
    threshold, max_size = int(settings["mirror.threshold"]), int(settings["mirror.max_snapshot_bytes"])

    def policy() -> TrustPolicy:
        return TrustPolicy(keys=[load_public_key(p) for p in trusted_key_files(entries)],
                           origin=origin, threshold=threshold, max_size=max_size)

    return policy


@dataclass(frozen=True)
class MirrorPaths:
    inbox: Path
    quarantine: Path
    state: Path

    @property
    def active(self) -> Path:
        return self.state / "active.snapshot"

    @property
    def last_sequence(self) -> Path:
        return self.state / "last-sequence"

    @property
    def activation_log(self) -> Path:
        return self.state / "activation.log"

    @property
    def usage(self) -> Path:
        return self.state / "usage"


def load(settings: dict, environ=os.environ) -> dict:
    merged = {**DEFAULTS, **settings}
    for name in ("mirror.inbox", "mirror.quarantine", "mirror.state", "mirror.trusted_keys",
                 "mirror.lookup_key", "mirror.origin"):
        if not merged.get(name):
            raise MirrorSettingsError(f"{name} is not set")
    require_contrast("site.colour_text on site.colour_brand", merged["site.colour_text"],
                     merged["site.colour_brand"])
    merged["site.texts"] = site_texts(merged, available_languages())
    merged["mirror.paths"] = MirrorPaths(Path(merged["mirror.inbox"]),
                                         Path(merged["mirror.quarantine"]),
                                         Path(merged["mirror.state"]))
    merged["mirror.trust"] = _trust_source(merged)
    merged["mirror.policy"] = merged["mirror.trust"]()
    merged["mirror.lookup_keys"] = LookupKeys(aslist(merged["mirror.lookup_key"]))
    merged["mirror.lookup_secret"] = merged["mirror.lookup_keys"].first
    merged["mirror.maintenance"] = asbool(merged["mirror.maintenance"])
    merged["mirror.maintenance_file"] = (Path(merged["mirror.maintenance_file"])
                                         if merged["mirror.maintenance_file"] else None)
    merged["mirror.rate_limit"] = int(merged["mirror.rate_limit"])
    merged["mirror.rate_window"] = int(merged["mirror.rate_window"])
    try:
        merged["mirror.rate_limit_exempt"] = exempt_networks(merged["mirror.rate_limit_exempt"])
    except ValueError as error:
        raise MirrorSettingsError(str(error)) from None
    merged["mirror.trusted_proxies"] = set(aslist(merged["mirror.trusted_proxies"]))
    merged["mirror.rate_limit_file"] = Path(merged["mirror.rate_limit_file"]
                                            or merged["mirror.paths"].usage / "rate-limit.table")
    merged["mirror.usage_report"] = (Path(merged["mirror.usage_report"])
                                     if merged["mirror.usage_report"] else None)
    base = merged["mirror.public_base_url"]
    if base and not re.match(r"^(https?://[^/?#\s]+)?(/(?!/)[^?#\s]*)?$", base):
        raise MirrorSettingsError(f"mirror.public_base_url {base!r} is not an address like "
                                  "https://www.city.example.lg.jp/shinsei (no query, no fragment)")
    merged["mirror.max_sequence_ahead"] = int(merged["mirror.max_sequence_ahead"])
    merged["mirror.max_clock_skew"] = int(merged["mirror.max_clock_skew"])
    return merged
