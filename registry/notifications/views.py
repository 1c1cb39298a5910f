from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.mail.kinds import SECURITY, MailKind
from registry.mail.vocabulary import kind_label
from registry.notifications import services
from registry.notifications.forms import NotificationsForm
from registry.web.database import get_session

bp = Blueprint("notifications", __name__, url_prefix="/account")


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    """Which notifications the signed-in user receives; security mails are listed as always
    sent."""
    db = get_session()
    user = current_user._get_current_object()
    offered = services.kinds_for(user)
    form = NotificationsForm()
    form.wanted.choices = [(kind.value, kind_label(kind)) for kind in offered]
    if form.validate_on_submit():
        services.set_notifications(db, user, wanted=[MailKind(k) for k in form.wanted.data or []])
        flash(_("Your notification settings are saved."), "success")
        return redirect(url_for("notifications.settings"))
    if not form.is_submitted():
        off = services.switched_off_kinds(db, user)
        form.wanted.data = [kind.value for kind in offered if kind not in off]
    security = sorted(kind_label(kind) for kind in SECURITY)
    return render_template("notifications/settings.html", form=form, offered=offered,
                           security=security)
