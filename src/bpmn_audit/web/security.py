"""What every page shares: sign-in state (Flask-Login), the idle timeout, CSRF (Flask-WTF), security
headers with a per-request CSP nonce, and the ``requires`` guard every page route declares."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user
from flask_wtf import CSRFProtect
from werkzeug.exceptions import NotFound

from ..models import User, db
from ..models.base import utcnow

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to see this page"
csrf = CSRFProtect()


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def requires(*groups: str) -> Callable:
    """A page for people signed in (and, with ``groups``, in one of them); others get sign-in, or a 404.

    The view keeps its groups in ``required_groups`` (``public`` sets None), and a test fails for a page
    route without either."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if groups and not set(groups) & set(current_user.groups or []):
                raise NotFound("There is no such page for you")
            return view(*args, **kwargs)
        guarded.required_groups = frozenset(groups)
        return guarded
    return decorate


def public(view: Callable) -> Callable:
    """Mark a page anyone may open (sign-in, health)."""
    view.required_groups = None
    return view


def _idle_timeout() -> Any:
    """Sign out a session idle for longer than IDLE_MINUTES (API calls use tokens, not sessions)."""
    if request.blueprint == "api" or not current_user.is_authenticated:
        return None
    now = utcnow()
    seen = session.get("seen_at")
    limit = timedelta(minutes=current_app.config["IDLE_MINUTES"])
    if seen is not None and now - datetime.fromisoformat(seen) > limit:
        logout_user()
        session.pop("seen_at", None)
        flash("You were signed out after a while without activity. Sign in again.")
        if request.endpoint == "auth.sign_in":
            return None
        return redirect(url_for("auth.sign_in", next=request.full_path if request.method == "GET" else None))
    session["seen_at"] = now.isoformat()
    return None


def _nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)


def _headers(response: Any) -> Any:
    nonce = getattr(g, "csp_nonce", "")
    response.headers.setdefault("Content-Security-Policy", (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response


def init(app: Flask) -> None:
    """Attach sign-in, CSRF and the headers to the app."""
    login_manager.init_app(app)
    csrf.init_app(app)
    app.before_request(_nonce)
    app.before_request(_idle_timeout)
    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = lambda: getattr(g, "csp_nonce", "")
