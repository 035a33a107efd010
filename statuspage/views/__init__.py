"""Thin blueprints: parse input, call a service, commit once, render."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from statuspage.views import (
        account,
        admin,
        admin_maintenance,
        api_v1,
        api_v2,
        auth,
        caching,
        embed,
        errors,
        feeds,
        maintenance,
        operations,
        public,
        sso,
        subscriptions,
    )

    caching.init_app(app)  # published views see only the query they declare

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(sso.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin_maintenance.bp)
    app.register_blueprint(api_v2.bp)
    app.register_blueprint(api_v2.docs)
    app.register_blueprint(api_v1.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(maintenance.bp)
    app.register_blueprint(subscriptions.bp)
    app.register_blueprint(embed.bp)  # the embed for other sites and the favicon
    app.register_blueprint(operations.bp)  # /readyz and /metrics
    # Webhooks and channels (issue 9): staff see URL subscribers and lift quarantines.
    from statuspage.views import admin_subscribers

    app.register_blueprint(admin_subscribers.bp)
    # Each channel's own routes (a provider's inbound and status webhooks).
    from statuspage.views import channels

    app.register_blueprint(channels.bp)
    errors.init_app(app)
