"""The auth forms. Flask-WTF adds a CSRF token to each; validation here is about shape only."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Regexp, ValidationError

from twofa.site.phones import InvalidPhoneNumber, RefusedPhoneNumber, countries, parse_phone


def _email(form: FlaskForm, field: EmailField) -> None:
    try:
        field.data = validate_email(field.data or "", check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError("Enter a valid e-mail address.") from exc


class SignUpForm(FlaskForm):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=100)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254), _email])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=128)],
        description="At least 8 characters. Long phrases are best; common passwords are refused.",
    )
    region = SelectField("Country", default="US", validators=[DataRequired()])
    phone = StringField(
        "Mobile phone",
        validators=[DataRequired(), Length(max=30)],
        description="We send sign-in codes to this number.",
    )

    challenge = HiddenField()
    solution = HiddenField()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = [(c.region, c.label) for c in countries()]

    def validate_phone(self, field: StringField) -> None:
        try:
            parse_phone(field.data or "", self.region.data or "")
        except RefusedPhoneNumber as exc:
            raise ValidationError(
                "Premium-rate, shared-cost and service numbers cannot receive codes."
            ) from exc
        except InvalidPhoneNumber as exc:
            raise ValidationError("Enter a valid mobile number for the chosen country.") from exc


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])
    next = HiddenField()
    challenge = HiddenField()
    solution = HiddenField()


class VerifyForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired(),
            Regexp(r"^\s*\d{6,12}\s*$", message="Codes are 6 to 12 digits."),
        ],
    )


class ResendForm(FlaskForm):
    via = HiddenField(default="sms", validators=[AnyOf(["sms", "call"])])


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token travels."""
