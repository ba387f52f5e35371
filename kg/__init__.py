"""kg: news articles in, a validated schema.org + PROV-O knowledge graph out."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newskg")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
