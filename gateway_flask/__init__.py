"""CareerOS REST gateway (Flask + flask-smorest); see :func:`gateway_flask.app.create_app`."""
