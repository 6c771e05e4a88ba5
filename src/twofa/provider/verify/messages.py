"""The texts a verification sends, per locale; unknown locales are refused (60200).

Twilio resolves the locale from the number's country when none is given; we default to
English, and a ``Locale`` parameter picks one of the translations below.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Template:
    code: str  # "{name}" and "{code}" are filled in
    psd2: str  # "{amount}" and "{payee}"
    do_not_share: str
    subject: str  # e-mail subject


TEMPLATES = {
    "en": Template(
        "Your {name} verification code is: {code}",
        "You are about to pay {amount} to {payee}.",
        "Don't share this code with anyone; our employees will never ask for the code.",
        "Your {name} verification code",
    ),
    "fr": Template(
        "Votre code de vérification {name} est : {code}",
        "Vous êtes sur le point de payer {amount} à {payee}.",
        "Ne partagez ce code avec personne ; nos employés ne vous le demanderont jamais.",
        "Votre code de vérification {name}",
    ),
    "de": Template(
        "Dein {name} Verifizierungscode lautet: {code}",
        "Du bist dabei, {amount} an {payee} zu zahlen.",
        "Gib diesen Code an niemanden weiter; unsere Mitarbeiter fragen nie danach.",
        "Dein {name} Verifizierungscode",
    ),
    "es": Template(
        "Tu código de verificación de {name} es: {code}",
        "Estás a punto de pagar {amount} a {payee}.",
        "No compartas este código con nadie; nuestros empleados nunca te lo pedirán.",
        "Tu código de verificación de {name}",
    ),
    "it": Template(
        "Il tuo codice di verifica {name} è: {code}",
        "Stai per pagare {amount} a {payee}.",
        "Non condividere questo codice con nessuno; i nostri dipendenti non lo chiederanno mai.",
        "Il tuo codice di verifica {name}",
    ),
    "pt": Template(
        "O seu código de verificação {name} é: {code}",
        "Está prestes a pagar {amount} a {payee}.",
        "Não partilhe este código com ninguém; os nossos funcionários nunca o pedirão.",
        "O seu código de verificação {name}",
    ),
    "nl": Template(
        "Je {name} verificatiecode is: {code}",
        "Je staat op het punt {amount} te betalen aan {payee}.",
        "Deel deze code met niemand; onze medewerkers vragen er nooit om.",
        "Je {name} verificatiecode",
    ),
}
DEFAULT_LOCALE = "en"


def normalise_locale(value: str | None) -> str | None:
    """``fr``, ``fr-CA`` or ``pt_BR`` -> the supported base language, None if unsupported."""
    if value is None:
        return DEFAULT_LOCALE
    base = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return base if base in TEMPLATES else None


@dataclass(frozen=True, slots=True)
class Texts:
    body: str
    subject: str


def compose(
    *,
    locale: str,
    name: str,
    code: str,
    channel: str,
    amount: str | None = None,
    payee: str | None = None,
    do_not_share: bool = False,
    app_hash: str | None = None,
) -> Texts:
    """The message for one send. A voice call reads the code digit by digit, twice."""
    template = TEMPLATES[locale]
    spoken = " ".join(code) if channel == "call" else code
    parts = [template.code.format(name=name, code=spoken)]
    if channel == "call":
        parts.append(spoken)
    if amount and payee:
        parts.append(template.psd2.format(amount=amount, payee=payee))
    if do_not_share:
        parts.append(template.do_not_share)
    body = ". ".join(p.rstrip(".") for p in parts[:1] + parts[1:]) + "."
    if app_hash and channel == "sms":
        body = f"{body}\n\n{app_hash}"
    return Texts(body, template.subject.format(name=name))
