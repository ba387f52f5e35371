"""The web shell: a Flask application factory (`kg.web.app.create_app`) serving every resource
by content negotiation, a SPARQL 1.1 Protocol endpoint and the dumps. Flask is imported only
inside this package."""
