"""gunicorn entry point: ``gunicorn 'gateway_flask.wsgi:app'``."""
from careeros_services.common.bootstrap import configure_process
from careeros_services.common.config import load_config
from gateway_flask.app import create_app
from gateway_flask.services import JwksFromAuth, readiness_checks
from gateway_flask.views import SERVICE_BLUEPRINTS
from gateway_flask.views.xapi import blp as xapi_blp

config = load_config()
configure_process(config, "gateway", "gateway")
app = create_app(config, jwks_provider=JwksFromAuth(config), blueprints=[*SERVICE_BLUEPRINTS, xapi_blp],
                 readiness_checks=readiness_checks(config))
