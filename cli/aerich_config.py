"""The Tortoise config for Aerich's own command line (pyproject.toml's [tool.aerich]).

For writing a new migration after changing models/tables.py, against a PostgreSQL
database migrated to the latest one:

    DATABASE_URL=postgres://... aerich migrate --name what_changed

Only that command imports this module; the server and `make migrate` build the same
config from their settings (models.migrate.migration_config).
"""

from models.migrate import migration_config
from settings import Settings

TORTOISE_ORM = migration_config(Settings.from_env().resolved_database_url)
