"""The smallest intranet ini a command runs with: the app, its database, logging to standard
error (``INI.format(url=…)``; a ``%`` in the URL doubled)."""

INI = """[app:main]
use = egg:shinsei-status#intranet
sqlalchemy.url = {url}
[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARN
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(levelname)s %(message)s
"""
