"""Languages of the staff UI: Japanese by default, English on request.

Message ids are the Japanese text itself, so a missing translation still shows correct
Japanese; ``locale/en`` holds the English catalogue.
"""

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("shinsei")

LOCALES = ("ja", "en")
DEFAULT_LOCALE = "ja"


def locale_negotiator(request):
    chosen = request.session.get("locale")
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def translate(request, message, **mapping):
    return request.localizer.translate(_(message, mapping=mapping or None))


def includeme(config):
    config.set_locale_negotiator(locale_negotiator)
    config.add_translation_dirs("intranet:locale/")
    config.add_request_method(translate, "translate")
