def includeme(config):
    _check_spool(config.get_settings())
    config.add_route("imports", "/imports")
    config.add_route("import_problems", "/imports/problems.csv")
    config.add_route("import_layouts", "/imports/layouts")
    config.add_route("import_layout", "/imports/layouts/{id:\\d+}")


def _check_spool(settings) -> None:
    """The uploads' folder is checked when the app starts (made 0700, or refused by name)."""
    from intranet.imports.spool import Spool, SpoolRefused
    from intranet.settings import SettingsError

    try:
        Spool.from_settings(settings)
    except SpoolRefused as refused:
        raise SettingsError(str(refused)) from None
