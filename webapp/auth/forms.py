"""Sign-in and account forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.auth.models import Role
from webapp.auth.passwords import MAX_LENGTH, MIN_LENGTH

ROLE_CHOICES = [
    SelectChoice(Role.ADMIN.value, _l("Admin: users and settings")),
    SelectChoice(Role.MANAGER.value, _l("Manager: POs, invoices, shipments")),
    SelectChoice(Role.FINANCE.value, _l("Finance: invoices and payments")),
    SelectChoice(Role.VIEWER.value, _l("Viewer: read only")),
]


class ButtonForm(FlaskForm):
    """A form with only a CSRF token, for one-button actions."""


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    # Long enough never to cut a valid password; the length rule applies when one is set.
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Continue"))


class CodeForm(FlaskForm):
    """A six-digit authenticator code, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "none",
                                  "spellcheck": "false"})
    submit = SubmitField(_l("Verify"))


class SetPasswordForm(FlaskForm):
    """Choose a password (when accepting an invite)."""

    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH,
                                        "maxlength": MAX_LENGTH})
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Set password"))


class ChangePasswordForm(SetPasswordForm):
    """Change the password: the current one first."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)],
                            render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Change password"))


class ReauthForm(FlaskForm):
    """Enter the password again before changing a factor."""

    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Confirm"))


class LanguageForm(FlaskForm):
    """Interface language."""

    locale = SelectField(_l("Language"), choices=[SelectChoice("en", "English"),
                                                  SelectChoice("zh_Hans", "简体中文")])
    submit = SubmitField(_l("Save"))


class TokenForm(FlaskForm):
    """A new API token: a name and a role (choices set by the view)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    submit = SubmitField(_l("Create token"))


class InviteForm(FlaskForm):
    """Invite a colleague by e-mail."""

    email = EmailField(_l("Company e-mail"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.VIEWER.value)
    submit = SubmitField(_l("Send invite"))


class RoleForm(FlaskForm):
    """Change a user's role."""

    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    submit = SubmitField(_l("Change role"))


class PasskeyNameForm(FlaskForm):
    """Name a new passkey."""

    name = StringField(_l("Passkey name"), validators=[Length(max=80)], default="Phone")
