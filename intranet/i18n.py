"""Languages of the staff UI: Japanese by default, English on request.

Message ids are the Japanese text itself, so a missing translation still shows correct
Japanese; ``locale/en`` holds the English catalogue.
"""

from pyramid.i18n import TranslationStringFactory

from intranet.characters import named_in

_ = TranslationStringFactory("shinsei")

LOCALES = ("ja", "en")
DEFAULT_LOCALE = "ja"


def locale_negotiator(request):
    chosen = request.session.get("locale")
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def translate(request, message, **mapping):
    """The message in the request's language. A plain label (no values, not a
    TranslationString carrying its own) is looked up once per request: a page of 100 audit
    records asks for the same few labels hundreds of times."""
    if mapping or type(message) is not str:
        if mapping and request.locale_name != DEFAULT_LOCALE:
            # A value naming a character a screen cannot show (「外字 U+E000」) in its words.
            mapping = {key: named_in(value, lambda word: translate(request, word))
                       if isinstance(value, str) else value for key, value in mapping.items()}
        return request.localizer.translate(_(message, mapping=mapping or None))
    seen = request.__dict__.setdefault("_translated_labels", {})
    text = seen.get(message)
    if text is None:
        text = seen[message] = request.localizer.translate(_(message))
    return text


def includeme(config):
    config.set_locale_negotiator(locale_negotiator)
    config.add_translation_dirs("intranet:locale/")
    config.add_request_method(translate, "translate")
