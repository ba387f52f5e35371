"""The web layer: a Flask app factory with blueprints for pages, SPARQL and dumps."""

from kg.web.app import create_app

__all__ = ["create_app"]
