"""Typed answers to offered choices: "Mali", "senegal", "oui", "waaw", "c fait", "👍".

People on cheap phones often type the answer instead of pressing the button. A typed text
selects one of the choices last offered to the contact when it is

* the choice's title, as shown or in any of our six languages (the gettext catalogues and the
  content), with accents, case, punctuation, repeated letters and a few fillers ("le", "au",
  "svp") ignored, or within a small spelling distance of it ("Guine", "Senegale");
* a yes/no/ok/done word of any of our languages ("oui", "ok envoie", "waaw", "awɔ", "ayi",
  "👍") and the step has an affirmative (or negative) choice: "Envoyer", "Confirmer",
  "Oui, rappelez-moi", "C'est fait", "Non";
* at a country question: a country name or a known place of that country ("Kédougou").

Used by the gateway before a text goes to Rasa, by `privacy.handle_private_input` in
sensitive steps (nothing typed there is stored or sent to Rasa), and by the flows at their
button steps. Choices that cannot be undone (`DESTRUCTIVE_CHOICES`) are never selected by a
typed text or a typed number: only by their button (or the flow's own confirmation word).

The word lists of the local languages are drafts written without a native speaker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from bot.core.normalize import fold_letters

# Choices that erase or send something for good: only their button selects them.
DESTRUCTIVE_CHOICES = frozenset({"flow:delete:confirm"})

# Emoji that mean something on their own (others are dropped by the folding).
_EMOJI_WORDS = {"👍": " ok ", "👌": " ok ", "✅": " ok ", "✔": " ok ", "☑": " ok ",
                "🆗": " ok ", "👎": " non ", "❌": " non ", "✖": " non ", "🙏": " merci "}
_EMOJI = re.compile("|".join(map(re.escape, _EMOJI_WORDS)))
_NON_WORD = re.compile(r"[^\w]+")
_DOUBLES = re.compile(r"(\w)\1+")
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")

# Yes / ok / done / send words, per language. Compared after folding (accents and special
# letters removed) and squeezing doubled letters ("waaw" -> "waw", "ouiii" -> "oui").
YES_WORDS: dict[str, tuple[str, ...]] = {
    "fr": ("oui", "ouai", "ouais", "wi", "ui", "ok", "okay", "oki", "okey", "dacord",
           "daccord", "dac", "accord", "vasy", "vas", "go", "bon", "bien", "sur", "exact",
           "exactement", "voila", "envoie", "envoi", "envoyer", "envoyez", "envoye", "confirme",
           "confirmer", "confirmez", "valide", "valider", "fait", "termine", "fini", "yes",
           "yep", "yeah", "continue", "continuer", "suivant", "suivante", "daccor"),
    # Drafts (no native speaker yet): Bambara, Maninka, Pular, Soninke, Wolof.
    "bm": ("awo", "owo", "awa", "ayiwa", "tinye"),
    "emk": ("on", "awa", "ayiwa", "haa"),
    "ff": ("eey", "ayyo", "eyyo"),
    "snk": ("haa", "ayo", "aawa"),
    "wo": ("waaw", "waw", "waaw waaw"),
}
NO_WORDS: dict[str, tuple[str, ...]] = {
    "fr": ("non", "nn", "no", "nope", "pas", "jamais", "nan"),
    # Drafts (no native speaker yet).
    "bm": ("ayi", "ayii", "ohon", "oho"),
    "emk": ("ayi", "ohon", "ho"),
    "ff": ("ala", "alaa", "alla"),
    "snk": ("ayi", "an an", "anan"),
    "wo": ("det", "dedet", "deedeet", "deet"),
}
# Words that may come with a yes/no without changing it ("oui merci", "ok c'est bon",
# "non pas maintenant", "d'accord vas-y").
FILLER_WORDS = frozenset({
    "c", "cest", "est", "ce", "d", "y", "le", "la", "les", "l", "lui", "moi", "merci", "svp",
    "stp", "s", "il", "te", "vous", "plait", "plais", "tout", "tres", "maintenant", "deja",
    "ca", "sa", "alors", "bien", "bon", "daccord", "j", "ai", "je", "veux", "mon", "ma",
    "frere", "ami", "mr", "madame", "monsieur", "hein", "quoi", "encore", "aussi", "e", "a",
    "ni", "n", "i", "ne", "se", "ka", "ko",
})
# Fillers around a title ("au Mali", "c'est le Sénégal", "je suis en Guinée").
TITLE_FILLERS = frozenset({
    "le", "la", "les", "l", "au", "aux", "en", "a", "de", "du", "des", "d", "je", "j", "suis",
    "on", "est", "c", "cest", "ce", "svp", "stp", "merci", "s", "il", "vous", "plait", "ici",
    "pays", "mon", "ma", "mes", "dans", "sur", "vers", "pour",
})
# A title made of these words only is kept whole (never emptied by the fillers).
COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    "ML": ("mali", "bamako", "ml", "malien", "malienne"),
    "GN": ("guinee", "guine", "guinee conakry", "conakry", "gn", "guineen", "guineenne"),
    "SN": ("senegal", "sn", "senegalais", "senegalaise", "dakar"),
}


def fold(text: str | None) -> str:
    """Lower case, no accents or special letters, emoji words, no punctuation."""
    if not text:
        return ""
    text = _EMOJI.sub(lambda m: _EMOJI_WORDS[m.group(0)], text)
    text = fold_letters(text).replace("'", "")
    return " ".join(_NON_WORD.sub(" ", text).split())


def squeeze(folded: str) -> str:
    """Doubled letters written once: "waaw" -> "waw", "ouiii" -> "oui", "deedeet" -> "det"."""
    return _DOUBLES.sub(r"\1", folded)


def _vocabulary(words: Mapping[str, Iterable[str]]) -> frozenset[str]:
    return frozenset(squeeze(fold(w)) for ws in words.values() for w in ws)


_YES = _vocabulary(YES_WORDS)
_NO = _vocabulary(NO_WORDS)


def yes_no(text: str | None) -> str | None:
    """"yes", "no" or None: is the text only an agreement (or a refusal) in any language?"""
    folded = squeeze(fold(text))
    if not folded:
        return None
    if folded in _YES:
        return "yes"
    if folded in _NO:
        return "no"
    tokens = folded.split()
    if len(tokens) > 6:
        return None
    yes = no = False
    i = 0
    while i < len(tokens):
        pair = " ".join(tokens[i:i + 2])
        if len(tokens) > i + 1 and (pair in _YES or pair in _NO):
            yes, no, i = yes or pair in _YES, no or pair in _NO, i + 2
            continue
        token = tokens[i]
        if token in _YES:
            yes = True
        elif token in _NO:
            no = True
        elif token not in FILLER_WORDS:
            return None
        i += 1
    if yes and not no:
        return "yes"
    if no and not yes:
        return "no"
    return None


def is_destructive(choice_id: str | None) -> bool:
    return choice_id in DESTRUCTIVE_CHOICES


def _id(choice) -> str:
    return str(choice["id"] if isinstance(choice, Mapping) else choice.id)


def _title(choice) -> str:
    return str(choice["title"] if isinstance(choice, Mapping) else choice.title)


def number_choice(text: str | None, choices: Sequence) -> str | None:
    """The choice a typed number ("2", "2.") points at; "0" is the menu. Never a destructive
    choice (None: the caller reads the text as text)."""
    match = _NUMBER.match(text or "")
    if not match:
        return None
    number = int(match.group(1))
    if number == 0:
        return "menu:main"
    if 1 <= number <= len(choices):
        choice_id = _id(choices[number - 1])
        return None if is_destructive(choice_id) else choice_id
    return None


# ---------------------------------------------------------------- titles in every language
@lru_cache(maxsize=1)
def _catalogue_variants() -> dict[str, frozenset[str]]:
    """Folded title -> the folded forms of the same message in every language."""
    from bot.i18n import LANGUAGES, translator

    groups: dict[str, set[str]] = {}
    msgids: set[str] = set()
    for code in LANGUAGES:
        catalog = getattr(getattr(translator(code), "_translations", None), "_catalog", None)
        for key in (catalog or {}):
            if isinstance(key, str) and key and len(key) <= 60:
                msgids.add(key)
    for msgid in msgids:
        forms = {fold(msgid)} | {fold(translator(code).gettext(msgid)) for code in LANGUAGES}
        forms.discard("")
        for form in forms:
            groups.setdefault(form, set()).update(forms)
    return {form: frozenset(group) for form, group in groups.items()}


def _content_titles(choice_id: str) -> set[str]:
    try:
        from bot.content import get_content
        from bot.i18n import LANGUAGES

        content = get_content()
        return {fold(str(content.choice_title(choice_id, code))) for code in LANGUAGES}
    except Exception:  # not a content choice (flow:, country:, lang:...) or no content
        return set()


def titles_of(choice) -> set[str]:
    """Every folded title a choice is known by: as shown, and in each of our languages."""
    shown = fold(_title(choice))
    titles = {shown} | set(_catalogue_variants().get(shown, ())) | _content_titles(_id(choice))
    titles.discard("")
    return titles


def _strip(folded: str, fillers: frozenset[str] = TITLE_FILLERS) -> str:
    kept = [t for t in folded.split() if t not in fillers]
    return " ".join(kept) if kept else folded


def _allowed_edits(length: int) -> int:
    return 0 if length <= 3 else 1 if length <= 6 else 2


def country_of_text(text: str | None) -> str | None:
    """A country named ("Mali", "au senegal", "Guinée Conakry") or one of its places."""
    folded = fold(text)
    stripped = _strip(folded)
    for code, names in COUNTRY_NAMES.items():
        if folded in names or stripped in names or squeeze(stripped) in {squeeze(n) for n in names}:
            return code
    for code, names in COUNTRY_NAMES.items():
        if any(len(n) > 3 and Levenshtein.distance(stripped, n) <= _allowed_edits(len(n))
               for n in names):
            return code
    if not stripped or len(stripped.split()) > 4:
        return None
    try:
        from bot.core.places import resolve_place

        place = resolve_place(stripped) or resolve_place(folded)
    except Exception:  # no gazetteer: the country names above still work
        return None
    return place.country if place is not None else None


# ---------------------------------------------------------------------------- matching
def polarity(choice) -> str | None:
    """"yes" for an affirmative choice (Envoyer, Confirmer, Oui…, C'est fait, Étape
    suivante), "no" for a negative one (Non…), "cancel" for Annuler, else None."""
    choice_id = _id(choice)
    if is_destructive(choice_id):
        return None
    words = squeeze(fold(_title(choice))).split()
    first = words[0] if words else ""
    if first in _NO:
        return "no"
    parts = choice_id.split(":")
    action = parts[2] if len(parts) > 2 and parts[0] == "flow" else ""
    if action == "cancel":
        return "cancel"
    if first in _YES or (len(words) > 1 and " ".join(words[:2]) in _YES):
        return "yes"
    if action in ("confirm", "consent", "send", "share", "done", "step", "resume"):
        return "yes"
    if action == "contact" and parts[-1] == "no":
        return "no"
    return None


def match_choice(text: str | None, choices: Sequence | None) -> str | None:
    """The id of the offered choice a typed text selects, or None.

    `choices` are `Choice` objects or `{"id", "title"}` dicts, in the order shown.
    """
    number = number_choice(text, choices or [])
    if number is not None:
        return number
    choices = [c for c in (choices or []) if not is_destructive(_id(c))]
    folded = fold(text)
    if not choices or not folded or len(folded) > 80 or _NUMBER.match(text or ""):
        return None
    stripped = _strip(folded)
    titles = [(c, titles_of(c)) for c in choices]
    # 1. A title, exactly (fillers, accents and doubled letters aside).
    for choice, forms in titles:
        if folded in forms or stripped in {_strip(f) for f in forms} or squeeze(stripped) in {
                squeeze(_strip(f)) for f in forms}:
            return _id(choice)
    # 2. Yes / no at a step that has an affirmative choice.
    answer = yes_no(text)
    if answer is not None:
        kinds = [(polarity(c), _id(c)) for c in choices]
        yes = [cid for kind, cid in kinds if kind == "yes"]
        if yes:
            if answer == "yes":
                return yes[0]
            no = [cid for kind, cid in kinds if kind == "no"] or [
                cid for kind, cid in kinds if kind == "cancel"]
            return no[0] if no else None
        if answer == "no":
            no = [cid for kind, cid in kinds if kind == "no"]
            return no[0] if len(no) == 1 else None
        return None
    # 3. A country question: a country name or a known place.
    countries = {_id(c).rsplit(":", 1)[-1]: _id(c) for c in choices
                 if re.search(r"(^|:)country:[A-Z]{2}$", _id(c))}
    if countries:
        code = country_of_text(text)
        if code in countries:
            return countries[code]
    # 4. A title within a small spelling distance, if only one is that close.
    best: list[tuple[int, str]] = []
    for choice, forms in titles:
        distances = [Levenshtein.distance(stripped, _strip(f)) for f in forms
                     if len(_strip(f)) > 3 and Levenshtein.distance(
                         stripped, _strip(f)) <= _allowed_edits(len(_strip(f)))]
        if distances:
            best.append((min(distances), _id(choice)))
    best.sort()
    if best and (len(best) == 1 or best[0][0] < best[1][0]):
        return best[0][1]
    # 5. A short text whose words all belong to one title only ("autre numéro").
    words = set(stripped.split())
    if 0 < len(words) <= 3 and all(len(w) >= 3 for w in words):
        found = {_id(c) for c, forms in titles if any(words <= set(f.split()) for f in forms)}
        if len(found) == 1:
            return found.pop()
    return None
