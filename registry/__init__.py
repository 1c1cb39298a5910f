"""The Made in Bali–NTB–NTT export registry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from registry import cli, queue
    from registry.accounts import auth
    from registry.config import load_config
    from registry.files import web as files_web
    from registry.mail import web as mail_web
    from registry.ops import errortracking, logs, metrics, readiness
    from registry.signing import keys
    from registry.web import database, errors, i18n, security, templating
    from registry.web.extensions import csrf, limiter

    instance = Path(
        (config or {}).get("INSTANCE_PATH")
        or os.environ.get("REGISTRY_INSTANCE")
        or ROOT / "instance"
    )
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(instance.resolve()),
        instance_relative_config=False,
    )
    app.config.update(load_config(Path(app.instance_path), config))
    app.config["RATELIMIT_STORAGE_URI"] = (
        app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://"
    )
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "registry")
    app.config.setdefault("RATELIMIT_ON_BREACH_CALLBACK", metrics.rate_limit_breached)
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis", "rediss", "unix")):
        # A Redis that stops answering must not hold a login for minutes: the limiter then
        # falls back to per-process limits (extensions.limiter) and logs it once.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                              {"socket_connect_timeout": 1, "socket_timeout": 1})
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    logs.configure(app)
    errortracking.init_app(app)
    metrics.init_app(app)
    database.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    keys.init_app(app)
    files_web.init_app(app)
    mail_web.init_app(app)
    queue.init_app(app)
    readiness.init_app(app)

    from registry.accounts.views import bp as accounts_bp
    from registry.api.account_views import bp as api_account_bp
    from registry.api.views import bp as api_bp
    from registry.audit.views import bp as audit_bp
    from registry.catalog.views import bp as catalog_bp
    from registry.certificates.views import bp as certificates_bp
    from registry.checkpoints.views import bp as checkpoints_bp
    from registry.desk.views import bp as desk_bp
    from registry.figures.views import bp as figures_bp
    from registry.notifications.views import bp as notifications_bp
    from registry.plots.views import bp as plots_bp
    from registry.printing.views import bp as printing_bp
    from registry.review.views import bp as review_bp
    from registry.shipments.views import bp as shipments_bp
    from registry.targets.views import bp as targets_bp
    from registry.verify.views import bp as verify_bp
    from registry.web.pages import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(plots_bp)
    app.register_blueprint(printing_bp)
    app.register_blueprint(figures_bp)
    app.register_blueprint(targets_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_account_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(checkpoints_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(shipments_bp)
    app.register_blueprint(audit_bp)

    from registry.verify.hotpath import LabelResolver

    # Label scans are answered before Flask's request machinery (see registry.verify.hotpath).
    resolver = app.extensions["label_resolver"] = LabelResolver(app, app.wsgi_app)
    wsgi: WSGIApplication = resolver
    if app.config.get("PROXY_HOPS"):
        # Behind a reverse proxy, rate limits and the scan client hash need the buyer's
        # address, not the proxy's; trust exactly as many hops as are configured.
        from werkzeug.middleware.proxy_fix import ProxyFix

        from registry.web.proxy import RawUriFromProxy

        hops = int(app.config["PROXY_HOPS"])
        wsgi = ProxyFix(RawUriFromProxy(wsgi), x_for=hops, x_proto=hops, x_host=hops)
    else:
        from registry.web.proxy import WarnForwardedWithoutHops

        wsgi = WarnForwardedWithoutHops(wsgi)
    # Outermost: every log line of the request, the label resolver's too, carries its id.
    # Replacing the method is Flask's documented way to add WSGI middleware.
    app.wsgi_app = logs.RequestIdMiddleware(wsgi)  # type: ignore[method-assign]
    return app
