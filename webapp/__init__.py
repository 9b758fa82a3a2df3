"""ACORN: a mobile-first PWA for Amazon Vendors. `create_app` builds the Flask app."""

from __future__ import annotations

import os

from flask import Flask

from config import BASE_DIR, Config, config_for_environment
from webapp.extensions import babel, csrf, db, login_manager, migrate


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Build the app for `config_class` (default: from ACORN_ENV)."""
    config_class = config_class or config_for_environment()
    config_class.check_production()
    app = Flask(
        __name__,
        static_folder="../static",
        template_folder="../templates",
        instance_path=config_class.INSTANCE_DIR,
    )
    from webapp.i18n_templates import LocalizedEnvironment

    app.jinja_environment = LocalizedEnvironment  # one compiled template per language
    app.config.from_object(config_class)
    os.makedirs(app.instance_path, exist_ok=True)

    from webapp import models  # noqa: F401 - registers every table on the metadata
    from webapp.auth import loader  # noqa: F401 - registers the user loader
    from webapp.i18n import install_template_gettext, select_locale, select_timezone
    from webapp.read_only_commit import commit_read_only_transactions
    from webapp.sqlite import enable_sqlite_pragmas

    db.init_app(app)
    with app.app_context():
        enable_sqlite_pragmas(db.engine)
    commit_read_only_transactions(app, db)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_template_gettext(app)  # per-request cached translations (hot path)

    from webapp.observability import init_observability
    from webapp.static_files import init_static

    init_observability(app)  # first: request ids and timing wrap every other hook
    _register_blueprints(app)
    from webapp.security import drop_idle_limit_check

    drop_idle_limit_check(app)  # after every blueprint: none of them sets a page-wide limit
    _register_cli(app)
    _register_template_globals(app)
    init_static(app)
    from webapp.core.assets import init_assets
    from webapp.core.compression import init_compression
    from webapp.core.pwa import init_pwa

    init_pwa(app)
    init_compression(app)
    init_assets(app)  # after init_static: the hashed-name middleware must be outermost
    return app


def _register_template_globals(app: Flask) -> None:
    from flask_babel import get_locale

    from webapp.auth.access import has_permission

    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["has_permission"] = has_permission


def _register_blueprints(app: Flask) -> None:
    from webapp.admin.routes import bp as admin_bp
    from webapp.amazon.routes import bp as amazon_bp
    from webapp.api import init_api
    from webapp.auth.routes import bp as auth_bp
    from webapp.auth.routes import init_app as init_auth
    from webapp.core.routes import bp as core_bp
    from webapp.dashboards.routes import bp as dashboards_bp
    from webapp.invoices.photo_routes import bp as invoice_photos_bp
    from webapp.invoices.routes import bp as invoices_bp
    from webapp.mail import init_mail
    from webapp.orders.routes import bp as orders_bp
    from webapp.push.routes import bp as push_bp
    from webapp.security import init_security
    from webapp.settings.routes import bp as settings_bp
    from webapp.shipments.routes import bp as shipments_bp

    app.register_blueprint(core_bp)
    init_security(app)  # headers on every response, Flask-Limiter
    init_auth(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(amazon_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(push_bp)
    app.register_blueprint(dashboards_bp)
    app.register_blueprint(invoices_bp)
    app.register_blueprint(invoice_photos_bp)
    app.register_blueprint(shipments_bp)
    init_api(app)
    init_mail(app)


def _register_cli(app: Flask) -> None:
    from webapp.amazon.cli import sync_cli  # also adds `vendors credentials`
    from webapp.amazon.sandbox.cli import sandbox_command
    from webapp.auth.cli import tokens_cli, users_cli
    from webapp.demo.cli import demo_command
    from webapp.i18n_cli import translations_cli
    from webapp.push.cli import push_cli
    from webapp.vendors.cli import vendors_cli
    from worker.cli import scheduler_command, worker_command

    app.cli.add_command(vendors_cli)
    app.cli.add_command(sync_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(sandbox_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(translations_cli)
    app.cli.add_command(push_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(scheduler_command)
