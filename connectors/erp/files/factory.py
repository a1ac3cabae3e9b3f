"""Registry entry of the files connector."""

from __future__ import annotations

from typing import Any

from connectors.erp.files.catalogue import FilesCatalogue, FilesSettings
from connectors.registry import Resolver


def build(options: dict[str, Any], resolver: Resolver) -> FilesCatalogue:
    settings = FilesSettings.model_validate(options)
    settings.path = resolver.path(settings.path)
    return FilesCatalogue(settings)
