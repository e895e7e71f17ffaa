"""A programme's name per resident language: Japanese (required, in ``views``), English, and
やさしい日本語 with furigana markup (``{給付金|きゅうふきん}``, checked by ``transfer.ruby``).

The snapshot carries each as typed (``transfer.build.programme_fields``); the public page
falls back to the Japanese name for a language left empty.
"""

from markupsafe import Markup

from transfer import ruby

# Field → (its name in an error, longest accepted). The easy name is longer than the name it
# reads: the furigana is part of it.
LIMITS = {"name_en": ("事業名（英語）", 200), "name_easy": ("事業名（やさしい日本語）", 400)}


def name_errors(request, names: dict[str, str]) -> dict[str, str]:
    """Field → what is wrong with it, naming the field: too long, or furigana the residents'
    page could not read (the first such place; the message quotes it)."""
    errors = {}
    for field, (label, limit) in LIMITS.items():
        value = names.get(field, "")
        if len(value) > limit:
            errors[field] = request.translate("${field}は${limit}文字以内にしてください。",
                                              field=request.translate(label), limit=limit)
        elif field == "name_easy" and (problems := ruby.problems(value)):
            errors[field] = f"{request.translate(label)}: {problems[0]}"
    return errors


def preview(values: dict[str, str]) -> dict[str, Markup | str]:
    """Language → the name as the residents' page shows it (an empty one falls back)."""
    japanese = values["name"]
    return {"ja": japanese, "en": values["name_en"] or japanese,
            "ja-easy": Markup(ruby.to_html(values["name_easy"] or japanese))}  # noqa: S704
