"""What every resolver receives as info.context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resolvers.loaders import Loaders
from resolvers.services import Services


@dataclass
class Context:
    services: Services
    loaders: Loaders = field(default_factory=Loaders)
    request: Any = None
    response: Any = None
