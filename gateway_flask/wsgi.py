"""gunicorn entry point: ``gunicorn 'gateway_flask.wsgi:app'``."""
from careeros_services.common.config import load_config
from gateway_flask.app import create_app
from gateway_flask.views import SERVICE_BLUEPRINTS

app = create_app(load_config(), blueprints=SERVICE_BLUEPRINTS)
