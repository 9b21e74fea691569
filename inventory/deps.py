"""Dependencies that route handlers declare by name."""

from __future__ import annotations

from litestar.di import NamedDependency

from inventory.accounts.principal import Principal
from inventory.db import Database

# The process's Database, provided by the app as the dependency `db`.
DatabaseDep = NamedDependency[Database]

# The signed-in user of the request, or None; provided by the app as `principal`.
PrincipalDep = NamedDependency[Principal | None]
