"""Interface strings shared by every flow (onboarding, menus, fallback, hand-over).

Marked with ``N_`` so ``make extract`` keeps them in the catalogue whatever the dialogue
code looks like. Use them by name, formatting placeholders after translating::

    from bot.i18n import common, translator
    t = translator(lang)
    t.gettext(common.COUNTRY_CHOSEN).format(country=t.gettext(common.COUNTRY_NAMES["ML"]))
"""

from __future__ import annotations

from bot.facts import COUNTRIES
from bot.i18n.translate import N_

WELCOME = N_("Bonjour ! Je suis l'assistant des orpailleurs. Choisissez un thème :")
MAIN_MENU = N_("Menu principal")
MENU = N_("Menu")
BACK = N_("Retour")
MORE = N_("Suite")
OTHER_COUNTRY = N_("Autre pays")
CHANGE_LANGUAGE = N_("Changer de langue")
CHOOSE_LANGUAGE = N_("Choisissez votre langue :")
ASK_COUNTRY = N_("Dans quel pays travaillez-vous ?")
COUNTRY_NAMES = COUNTRIES
NOT_UNDERSTOOD = N_("Je n'ai pas bien compris. Choisissez dans le menu ou écrivez votre "
                    "question autrement.")
STILL_NOT_UNDERSTOOD = N_("Je ne comprends toujours pas. Voulez-vous parler à une personne ?")
TALK_TO_PERSON = N_("Parler à une personne")
MESSAGE_RECEIVED = N_("Nous avons bien reçu votre message. Nous vous répondons dès que "
                      "possible.")
THANKS_REPLY = N_("Merci ! Écrivez « menu » quand vous voulez.")
TYPE_NUMBER = N_("Tapez le numéro de votre choix.")
VOICE_RECEIVED = N_("Votre message vocal est bien reçu. Une personne de l'équipe va "
                    "l'écouter.")
UNSUPPORTED_MESSAGE = N_("Ce type de message n'est pas pris en charge. Écrivez votre "
                         "question ou envoyez un message vocal.")
# TRANSLATORS: confirms the switch, in the new language; name the language in itself.
LANGUAGE_CHANGED = N_("Langue changée : français.")
# TRANSLATORS: {country} is replaced by the translated country name (Mali, Guinée, Sénégal).
COUNTRY_CHOSEN = N_("Pays choisi : {country}.")
YES = N_("Oui")
NO = N_("Non")
CANCEL = N_("Annuler")
