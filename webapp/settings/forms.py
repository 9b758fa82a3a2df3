"""Forms of the vendor's own settings (admins)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import Optional, Regexp


class ShippingSettingsForm(FlaskForm):
    """The GS1 company prefix that SSCC carton labels are numbered under."""

    gs1_company_prefix = StringField(
        _l("GS1 company prefix"),
        filters=[lambda v: "".join(v.split()) if v else v],
        validators=[Optional(), Regexp(r"^[0-9]{7,10}$",
                                       message=_l("A GS1 company prefix is 7 to 10 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 14})
    submit = SubmitField(_l("Save"))
