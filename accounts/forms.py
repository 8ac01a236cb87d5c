from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.codes import LOGIN_CODE_DIGITS


class LoginCodeForm(forms.Form):
    """Step 2 of the admin sign-in: the code the bot sent."""

    code = forms.CharField(
        label=_("Code"),
        min_length=LOGIN_CODE_DIGITS,
        max_length=LOGIN_CODE_DIGITS,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]*",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"]).strip()
        if not (code.isascii() and code.isdigit()):
            raise forms.ValidationError(
                gettext("The code is made of %(digits)s digits.")
                % {"digits": LOGIN_CODE_DIGITS},
                code="invalid",
            )
        return code


class RecoveryCodeForm(forms.Form):
    """A recovery code in place of the Telegram code."""

    code = forms.CharField(
        label=_("Recovery code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
                "placeholder": "abcd-efgh-ijkl",
            }
        ),
    )
