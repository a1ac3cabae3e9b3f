"""GesCom export files (Sage, EBP, WinDev, AS400 style): CSV and XML."""

from connectors.erp.files.catalogue import FilesCatalogue
from connectors.erp.files.settings import FilesSettings

__all__ = ["FilesCatalogue", "FilesSettings"]
