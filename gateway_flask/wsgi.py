"""gunicorn entry point: ``gunicorn 'gateway_flask.wsgi:app'``.

The same WSGI app also serves the web client (package ``web``) at ``/``: the API keeps
``/api/v1``, the xAPI LRS ``/xapi``, ``/healthz``, ``/readyz`` and ``/metrics``; the web client
reaches the API over HTTP like any other client (``web.api_url``, by default this gateway's own address).
"""
from careeros_services.common.bootstrap import configure_process
from careeros_services.common.config import load_config
from gateway_flask.app import create_app
from gateway_flask.services import JwksFromAuth, readiness_checks
from gateway_flask.views import PLAIN_BLUEPRINTS, SERVICE_BLUEPRINTS
from web.app import create_app as create_web_app
from web.dispatch import serve_beside

config = load_config()
configure_process(config, "gateway", "gateway")
app = create_app(config, jwks_provider=JwksFromAuth(config), blueprints=[*SERVICE_BLUEPRINTS, *PLAIN_BLUEPRINTS],
                 readiness_checks=readiness_checks(config))
web_settings = dict(config.get("web") or {})
web_settings["api_url"] = web_settings.get("api_url") or f"http://{config['gateway']['bind']}/api/v1"
serve_beside(app, create_web_app(web_settings, redis_url=config["redis_url"]))
