from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from registry.accounts.rules import (
    MAX_DECLINE_REASON,
    MAX_PASSWORD,
    password_problem,
    valid_nib,
)
from registry.accounts.vocabulary import ORG_KIND_LABELS, ROLE_LABELS
from registry.reference import PROVINCES
from registry.web.forms import Form
from registry.web.messages import PASSWORD_MESSAGES, with_limits


def _strong_password(form: Form, field: PasswordField) -> None:
    # The account's address: typed in the form, or the account's own (change and reset).
    email = form.email.data if hasattr(form, "email") else getattr(form, "account_email", "")
    problem = password_problem(field.data or "", email=email or "")
    if problem is not None:
        raise ValidationError(with_limits(PASSWORD_MESSAGES[problem]))


def _nib(_form: Form, field: StringField) -> None:
    if not valid_nib((field.data or "").strip()):
        raise ValidationError(_l("The NIB is the 13-digit business number issued by OSS."))


def province_choices() -> list[tuple[str, str]]:
    return list(PROVINCES.items())


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(),
                                                        Length(max=MAX_PASSWORD)])
    next = HiddenField()


class SignupForm(Form):
    company_name = StringField(_l("Company legal name"), validators=[InputRequired(),
                                                                    Length(max=200)])
    nib = StringField(_l("NIB (business number)"), validators=[InputRequired(), _nib])
    province_code = SelectField(_l("Province"), choices=province_choices,
                                validators=[InputRequired()])
    address = TextAreaField(_l("Address"), validators=[InputRequired(), Length(max=500)])
    name = StringField(_l("Your name"), validators=[InputRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), _strong_password])
    confirm = PasswordField(_l("Repeat password"), validators=[
        InputRequired(), EqualTo("password", message=_l("The passwords do not match."))])


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[
        InputRequired(), Length(max=MAX_PASSWORD)])
    password = PasswordField(_l("New password"), validators=[InputRequired(), _strong_password])
    confirm = PasswordField(_l("Repeat new password"), validators=[
        InputRequired(), EqualTo("password", message=_l("The passwords do not match."))])

    account_email = ""


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)])


class ResetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[InputRequired(), _strong_password])
    confirm = PasswordField(_l("Repeat new password"), validators=[
        InputRequired(), EqualTo("password", message=_l("The passwords do not match."))])

    account_email = ""


class OrganisationForm(Form):
    kind = SelectField(_l("Kind"), choices=list(ORG_KIND_LABELS.items()))
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    province_code = SelectField(_l("Province"), choices=lambda: [("", "—"), *province_choices()])
    nib = StringField(_l("NIB (exporters only)"), validators=[Length(max=13)])
    address = TextAreaField(_l("Address"), validators=[Length(max=500)])


class UserForm(Form):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=list(ROLE_LABELS.items()))
    organisation_id = SelectField(_l("Organisation"), coerce=int, choices=[])
    password = PasswordField(_l("Initial password"), validators=[InputRequired(),
                                                                 _strong_password])


class DeclineForm(Form):
    reason = TextAreaField(_l("Why the sign-up is declined (the applicant reads this)"),
                           validators=[InputRequired(), Length(max=MAX_DECLINE_REASON)])


class ActionForm(Form):
    """A bare form for buttons that only need CSRF protection."""


class SecondFactorForm(Form):
    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[InputRequired(), Length(max=40)])


class ConfirmCodeForm(Form):
    code = StringField(_l("Code from your authenticator app"),
                       validators=[InputRequired(), Length(max=12)])


class ReauthForm(Form):
    """Either the password or a current code (for those who have an authenticator)."""

    password = PasswordField(_l("Password"), validators=[Length(max=MAX_PASSWORD)])
    code = StringField(_l("or a code from your authenticator app"),
                       validators=[Length(max=40)])
