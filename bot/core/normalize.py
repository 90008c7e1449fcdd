"""Text normalisation shared by NLU training and the gateway.

The same function runs on every training example (``bot.devtools.train``) and on every user
message before it reaches Rasa, so both sides see one spelling of each word:

* Unicode NFC, case folding, whitespace condensed;
* the special letters of the Manding, Pular and Wolof orthographies folded to plain ones
  (ɛ→e, ɔ→o, ɲ→ny, ŋ→ng, ɓ→b, ɗ→d, ƴ→y, ñ→ny) and accents removed, because most phones type
  "dinge" for *dingɛ* and "kenieba" for *Kéniéba*;
* runs of three or more identical letters shortened to two ("merciiii" → "mercii"; two are
  kept because Pular and Wolof write long vowels and geminates: *kaŋŋe*, *waaw*), and a few
  stretched French words brought back to one spelling ("ouiii", "bonsoiiir" → "oui", "bonsoir");
* French as West African texters write it, brought back to one spelling: SMS abbreviations
  (slt → salut, jvx → je veux, bcp, pk, tt, dc, ds, ct...), phonetic spellings (koman, kel,
  koi, bocou, kelkun, otorisation, mercur...), missing apostrophes (jai, cest, lor, dor, sil,
  lautorisation), and words that are also Bambara, Wolof or Pular words (ke, ki, ya, sa, o, pa,
  kan) only where the words around them are French ("ce ke je veux", "ya des", "c sa");
* numbers written as words turned into digits ("deux grammes" → "2 grammes", "cinq mille" →
  "5000"); "10 000" → "10000";
* emojis dropped, except the ones that mean a word (👍 👌 ✅ → "ok", 🙏 → "merci"); runs of
  the same punctuation shortened ("???" → "?").

Two kinds of text pass through untouched: Rasa payloads (``/choose{"choice": "country:ML"}``,
which must keep their case) and the annotation parts of a Rasa training example
(``[Guinée]{"entity": "country", "value": "GN"}`` keeps ``{...}``; ``[Siguiri](place)`` keeps
``(place)``), so ``normalize`` can be applied to raw training lines.

The function is pure and allocation-light; it is idempotent (``normalize(normalize(t)) ==
normalize(t)``).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "fold_letters", "SMS_ABBREVIATIONS", "words_to_digits"]

# Letters that NFD does not decompose; folded before accents are stripped.
_LETTER_FOLDS = {
    "ɛ": "e",
    "ε": "e",  # Greek epsilon, typed for ɛ on phones without an African keyboard
    "ɔ": "o",
    "ↄ": "o",
    "ɲ": "ny",
    "ñ": "ny",  # Wolof/Pular ñ is the same sound as Manding ɲ
    "ŋ": "ng",
    "ɓ": "b",
    "ɗ": "d",
    "ƴ": "y",
    "ʼ": "'",
    "’": "'",
    "‘": "'",
    "`": "'",
    "´": "'",
    "œ": "oe",
    "æ": "ae",
    "ß": "ss",
}
_FOLD_TABLE = str.maketrans(_LETTER_FOLDS)

# Emojis that stand for a word; every other emoji (and pictographic symbol) is dropped.
_EMOJI_WORDS = {
    "👍": " ok ", "👌": " ok ", "✅": " ok ", "🆗": " ok ", "✔": " ok ", "☑": " ok ",
    "🙏": " merci ",
}

# French SMS spellings → full words. Chosen so that none is also a common word of bm, emk,
# ff, snk or wo once their special letters are folded (which is why "ke", "ki", "ya", "sa",
# "kan", "pa" and "o" are absent: *kɛ*, *ya*, *sa*, *kan*, *o* are Bambara words, *ki* and
# *pa* Wolof ones; they are read as French only next to French words, see _CONTEXTUAL).
SMS_ABBREVIATIONS: dict[str, str] = {
    # greetings, politeness
    "slt": "salut",
    "bjr": "bonjour",
    "bjour": "bonjour",
    "bnjr": "bonjour",
    "bsr": "bonsoir",
    "bsoir": "bonsoir",
    "svp": "s'il vous plait",
    "svpl": "s'il vous plait",
    "stp": "s'il te plait",
    "mrc": "merci",
    "mci": "merci",
    "mrci": "merci",
    "dsl": "desole",
    "dak": "d'accord",
    "dakor": "d'accord",
    "dacor": "d'accord",
    "dacc": "d'accord",
    "dac": "d'accord",
    "daccord": "d'accord",
    "okay": "ok",
    "oki": "ok",
    "ui": "oui",
    "nn": "non",
    # question words
    "koi": "quoi",
    "kwa": "quoi",
    "kua": "quoi",
    "cmt": "comment",
    "cmnt": "comment",
    "koman": "comment",
    "komen": "comment",
    "komment": "comment",
    "komman": "comment",
    "coman": "comment",
    "comman": "comment",
    "commen": "comment",
    "pq": "pourquoi",
    "pk": "pourquoi",
    "pkoi": "pourquoi",
    "pkwa": "pourquoi",
    "pourkoi": "pourquoi",
    "pourkwa": "pourquoi",
    "poukoi": "pourquoi",
    "pcq": "parce que",
    "pck": "parce que",
    "passke": "parce que",
    "paske": "parce que",
    "parceke": "parce que",
    "qd": "quand",
    "kand": "quand",
    "kel": "quel",
    "kelle": "quelle",
    "kels": "quels",
    "kelles": "quelles",
    "lekel": "lequel",
    "lakel": "laquelle",
    "kom": "comme",
    "komsa": "comme ca",
    "ckoi": "c'est quoi",
    "cquoi": "c'est quoi",
    "keske": "qu'est-ce que",
    "kesk": "qu'est-ce que",
    "keskil": "qu'est-ce qu'il",
    "kes": "qu'est-ce",
    "kesako": "c'est quoi",
    "kelkun": "quelqu'un",
    "kelkin": "quelqu'un",
    "kelkn": "quelqu'un",
    "kelqun": "quelqu'un",
    "quelquun": "quelqu'un",
    "qqn": "quelqu'un",
    "qlqn": "quelqu'un",
    "qqch": "quelque chose",
    "qlqch": "quelque chose",
    "kelkchose": "quelque chose",
    "kelke": "quelque",
    "kelk": "quelque",
    "qlq": "quelque",
    "qq": "quelques",
    # pronouns and verbs run together
    "jvx": "je veux",
    "jveux": "je veux",
    "jveu": "je veux",
    "jv": "je veux",
    "jvoudrai": "je voudrais",
    "jvoudrais": "je voudrais",
    "jvai": "je vais",
    "jvais": "je vais",
    "jpx": "je peux",
    "jpeux": "je peux",
    "jpeu": "je peux",
    "jpe": "je peux",
    "jpp": "je peux pas",
    "jsp": "je sais pas",
    "jsais": "je sais",
    "jsai": "je sais",
    "jcrois": "je crois",
    "jcomprend": "je comprends",
    "jcomprends": "je comprends",
    "jconnais": "je connais",
    "jtravaille": "je travaille",
    "jhabite": "j'habite",
    "chui": "je suis",
    "chuis": "je suis",
    "jsuis": "je suis",
    "jsui": "je suis",
    "jss": "je suis",
    "jai": "j'ai",
    "jaime": "j'aime",
    "javais": "j'avais",
    "jetais": "j'etais",
    "jarrive": "j'arrive",
    "cest": "c'est",
    "cetait": "c'etait",
    "ct": "c'etait",
    "sil": "s'il",
    "sils": "s'ils",
    "quil": "qu'il",
    "quils": "qu'ils",
    "quon": "qu'on",
    "quest": "qu'est",
    "nest": "n'est",
    "nai": "n'ai",
    "navons": "n'avons",
    "ilya": "il y a",
    "tkt": "t'inquiete",
    "vx": "veux",
    "veu": "veux",
    # small words
    "pr": "pour",
    "tjr": "toujours",
    "tjrs": "toujours",
    "tjs": "toujours",
    "bcp": "beaucoup",
    "bcq": "beaucoup",
    "bocou": "beaucoup",
    "bokou": "beaucoup",
    "boucou": "beaucoup",
    "boucoup": "beaucoup",
    "bocoup": "beaucoup",
    "ds": "dans",
    "dc": "donc",
    "tt": "tout",
    "ts": "tous",
    "tte": "toute",
    "ttes": "toutes",
    "ns": "nous",
    "vs": "vous",
    "mm": "meme",
    "bn": "bien",
    "tro": "trop",
    "auj": "aujourd'hui",
    "ajd": "aujourd'hui",
    "aujourdhui": "aujourd'hui",
    "ojourdhui": "aujourd'hui",
    "jusqua": "jusqu'a",
    "jusko": "jusqu'au",
    "mnt": "maintenant",
    "mtn": "maintenant",
    "maintenan": "maintenant",
    "pb": "probleme",
    "pbm": "probleme",
    "pblm": "probleme",
    "problm": "probleme",
    "problem": "probleme",
    "infos": "informations",
    "info": "information",
    "mw": "moi",
    "mwa": "moi",
    "twa": "toi",
    "explik": "explique",
    "expliq": "explique",
    "esplik": "explique",
    "eske": "est-ce que",
    "estce": "est-ce",
    # the domain, as it is spelled by ear
    "otorisation": "autorisation",
    "otorizasion": "autorisation",
    "otorisasion": "autorisation",
    "autorisasion": "autorisation",
    "autorization": "autorisation",
    "otorite": "autorite",
    "otorites": "autorites",
    "mercur": "mercure",
    "merkur": "mercure",
    "merkure": "mercure",
    "mercurre": "mercure",
    "mercuri": "mercure",
    "cianure": "cyanure",
    "sianure": "cyanure",
    "cyanur": "cyanure",
    "cyanide": "cyanure",
    "orpayeur": "orpailleur",
    "orpaieur": "orpailleur",
    "orpailleure": "orpailleur",
    "orpayeurs": "orpailleurs",
    "orpayage": "orpaillage",
    "orpaiyage": "orpaillage",
    "orpaillag": "orpaillage",
    "cooperativ": "cooperative",
    "cooperatve": "cooperative",
    "coperative": "cooperative",
    "cooperatif": "cooperative",
    "kooperative": "cooperative",
    "koperative": "cooperative",
    "puit": "puits",
    "dangereu": "dangereux",
    "dangeureux": "dangereux",
    "dangeureu": "dangereux",
    "danjereux": "dangereux",
    "danjer": "danger",
    "securiter": "securite",
    "permi": "permis",
    "papie": "papier",
    "papies": "papiers",
    "ansien": "ancien",
    "anfant": "enfant",
    "anfants": "enfants",
    "enfan": "enfant",
    "enfans": "enfants",
    "acheteu": "acheteur",
    "achteur": "acheteur",
    "achteurs": "acheteurs",
    "vandre": "vendre",
    "vende": "vendre",
    "vendr": "vendre",
    "amalgam": "amalgame",
    "cornu": "cornue",
    "fondr": "fondre",
    "plindre": "plaindre",
    "plinte": "plainte",
    "formalize": "formalise",
    "agreman": "agrement",
    "gendarm": "gendarme",
    "aksidan": "accident",
    "aksident": "accident",
    "acident": "accident",
    "acsident": "accident",
    "efondre": "effondre",
    "ebouleman": "eboulement",
    "blese": "blesse",
    "vyol": "viol",
    "arcelement": "harcelement",
    "harcelman": "harcelement",
}

# Missing apostrophes before a vowel: "lor" → "l'or", "lautorisation" → "l'autorisation".
# Only before these words (the words of the domain and a few verbs), so that a word of a local
# language that starts like them is never split: the rule needs the whole rest of the token.
_ELIDED_WORDS = frozenset({
    "or", "orpaillage", "orpailleur", "orpailleurs", "autorisation", "autorisations",
    "argent", "aide", "eau", "ecole", "enfant", "enfants", "amalgame", "air", "agent", "agents",
    "acheteur", "acheteurs", "achat", "age", "accident", "equipement", "etat", "exploitation",
    "extraction", "usine", "homme", "hommes", "hopital", "information", "informations",
    "inscription", "enregistrement", "association", "administration", "avantage", "assurance",
    "appareil", "arachide", "hivernage", "interdiction", "attestation", "avis", "autorite",
    "autorites", "office", "agrement", "amende", "arret", "etranger", "etrangers",
    "entreprise", "acide", "aller", "avoir", "etre", "ecrire", "utiliser", "utilise",
    "appelle", "appeler", "adresser", "aider", "aidez", "envoyer", "inscrire", "habite",
    "explique", "expliquer", "orpailler", "avais", "etait",
    "ecran", "endroit", "examen", "entendre",
    "autre", "autres", "eboulement", "effondrement", "equipe", "epargne", "emploi",
})
_ELISION_PREFIXES = ("qu", "l", "d", "j", "m", "n", "s", "t", "c")
_ELISION_FIRST = frozenset("qldjmnstc")
# Prefix + word pairs that are words themselves ("don", "son", "non", "dans", "les"...), or
# local-language words (Bambara *den* child, *sen* leg, *men* hear; Wolof *lan* what).
_NOT_ELIDED = frozenset({
    "don", "son", "non", "mon", "ton", "lon", "con", "dun", "dune", "lune", "len", "den",
    "sen", "men", "ten", "nen", "cen", "ty", "ly", "dy", "my", "ny", "sy", "cy", "sa", "lai",
    "dai", "mai", "sai", "tai", "nai", "cai", "dil", "mil", "nil", "til", "cil", "lil",
    "dils", "mils", "quen", "qui", "dest", "lest", "mest", "test", "nest", "sest", "cest",
    "quy", "jy", "lair", "dair", "mair", "tair", "sair", "lage", "dage", "mage", "sage",
    "cage", "tage", "nage", "lavis", "davis", "mavis", "lun", "mun", "nun", "sun", "tun",
    "cun", "mune", "tune", "sune", "lelle", "delle", "selle", "telle", "celle",
    "nelle", "melle", "jelle", "lelles", "delles", "celles", "telles", "selles", "dor", "mor",
    "tor", "sor", "cor", "nor", "jor", "lor", "jen", "savoir", "lavoir",
    "decrire", "metre", "metres", "davantage", "quelle", "quelles", "long", "jon",
})
# Kept from the list above because they are, here, the elided words.
_ELIDED_ANYWAY = {"lor": "l'or", "dor": "d'or", "dair": "d'air", "lair": "l'air",
                  "sest": "s'est", "lage": "l'age", "dage": "d'age",
                  "dune": "d'une", "davis": "d'avis"}

# Stretched French words (a letter typed twice or more for emphasis) and their spelling; a
# doubled letter is only undone when it gives one of these.
_STRETCHED = frozenset({
    "merci", "oui", "non", "ok", "salut", "bonjour", "bonsoir", "aide", "aidez", "allo",
    "svp", "stp", "vite", "urgent", "hello", "super", "pardon", "desole", "stop", "menu",
    "retour", "encore", "suite", "help", "coucou", "cool", "bien", "grave", "trop", "pitie",
    "au", "secours", "quoi", "comment", "pourquoi", "ah", "oh", "eh", "hein", "bon",
    "koi", "bcp", "mrc", "slt", "bjr",  # then expanded ("kooi" → "koi" → "quoi")
})

# Number words (French). "un"/"une" are articles and only count inside a longer number.
_UNITS = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20, "vingts": 20, "trente": 30,
    "quarante": 40, "cinquante": 50, "soixante": 60, "septante": 70, "huitante": 80,
    "octante": 80, "nonante": 90,
}
_SCALES = {"cent": 100, "cents": 100, "mille": 1000, "mil": 1000, "milles": 1000,
           "million": 1_000_000, "millions": 1_000_000}
_NUMBER_JOINERS = {"et"}

# Words after which a typed "1" is the article "un".
_AFTER_ARTICLE_ONE = frozenset({
    "homme", "femme", "enfant", "vrai", "vraie", "humain", "agent", "probleme", "pb", "kilo",
    "kg", "gramme", "trou", "puits", "puit", "site", "jour", "mois", "an", "peu", "autre",
    "accident", "blesse", "moment", "ami", "frere", "cousin", "chef", "papier", "acheteur",
    "gendarme", "policier", "conseiller", "monsieur", "garcon", "jeune", "vieux",
    "orpailleur", "etranger", "responsable", "numero", "bon", "gros", "petit", "seul",
    "endroit", "terrain", "village", "conflit", "truc", "souci", "groupe", "gie",
})
# Tokens after which a lone "c" is a choice letter, not "c'est".
_C_KEEP_AFTER = {"option", "choix", "reponse", "lettre", "point", "le", "la"}

# Words that are French here only next to French words. Each entry: the French reading,
# the words after which it is French, and the words before which it is French.
_FR_SUBJECTS = {"je", "j'ai", "tu", "il", "ils", "elle", "elles", "on", "nous", "vous",
                "c'est", "ca", "si", "mon", "ma", "mes", "ton", "ta", "notre", "nos", "leur",
                "les", "l'or", "le", "ce", "cette", "ces", "quelqu'un", "qu'il", "personne"}
_CONTEXTUAL: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    # Bambara kɛ "do": "a ke", "ka baara ke". French "que" after French words only.
    "ke": ("que", frozenset({
        "ce", "est-ce", "parce", "pour", "pas", "dit", "dis", "disent", "sais", "sait",
        "veux", "veut", "faut", "depuis", "avant", "apres", "alors", "ainsi", "plus",
        "moins", "afin", "tandis", "jusqu'a", "sans", "tout", "rien", "bien", "vrai", "sur",
        "pense", "crois", "croit", "quoi", "qu'est-ce", "meme", "autre", "ne", "fait",
        "demande", "entendu", "vu", "lors", "certain", "sure", "dire", "sache", "peur"}),
        frozenset(_FR_SUBJECTS - {"les", "le", "ce", "personne"})),
    "k": ("que", frozenset({
        "ce", "est-ce", "parce", "pour", "pas", "dit", "sais", "veux", "faut", "depuis",
        "avant", "plus", "tout", "rien", "qu'est-ce"}),
        frozenset(_FR_SUBJECTS - {"les", "le", "ce", "personne"})),
    # Wolof "ki" (this one): "nit ki". French "qui" after French words only.
    "ki": ("qui", frozenset({
        "a", "ce", "ceux", "celui", "celle", "celles", "c'est", "de", "pour", "avec",
        "chez", "quelqu'un", "homme", "hommes", "femme", "femmes", "gens", "personne",
        "qu'est-ce", "kes", "puits", "trou", "site", "chef", "agent", "agents", "acheteurs",
        "acheteur", "numero", "enfant", "enfants", "ya", "il y a", "et", "mais", "ou", "par",
        "sur", "tous", "tout", "ceux-la", "celui-la"}),
        frozenset({"a", "repond", "vend", "achete", "peut", "sont", "ont", "travaille",
                   "fait", "veut", "dit", "me", "m'a", "nous", "vous", "les", "ne", "n'a",
                   "s'occupe", "donne", "parle", "gere", "delivre", "decide"})),
    # Bambara/Maninka "ya" is rare; French "ya" = "il y a" before these words.
    "ya": ("il y a", frozenset({"il"}), frozenset({
        "des", "pas", "un", "une", "du", "beaucoup", "quoi", "quel", "quelle", "quels",
        "quelqu'un", "trop", "plus", "rien", "personne", "combien", "encore", "aussi", "eu",
        "toujours", "plein", "autre", "d'autres", "probleme", "moyen", "qui",
        "qu'un", "que", "ki", "kelk", "quelque", "quelques", "kelke", "deja", "pa", "koi",
        "kel", "kelle"})),
    # Bambara sa (death, snake), Wolof sa (your). French "ca" in these phrases.
    "sa": ("ca", frozenset({"c'est", "pas", "comme", "tout", "pour", "avec", "de", "ou",
                            "quoi", "faire", "fait", "oui", "non", "et"}),
           frozenset({"va", "vas", "marche", "coute", "sert", "fait", "depend", "suffit",
                      "veut", "dure", "vaut", "prend", "en", "y", "me", "nous", "ne", "n'a",
                      "n'est", "c'est", "peut", "donne", "fais", "change", "commence"})),
    # Bambara/Maninka o (that, it). French "au" after a French verb.
    "o": ("au", frozenset({
        "suis", "vais", "va", "vont", "allez", "aller", "travaille", "travailles",
        "travaillons", "travaillent", "habite", "habites", "vit", "vivent", "sommes",
        "etes", "sont", "vends", "vendre", "partir", "parti", "partie", "rentrer",
        "retourner", "arrive", "allons", "je", "moi", "creuse", "creuser", "reste",
        "venu", "venue", "retour", "aide", "travail"}), frozenset()),
    # Bambara kan (language, voice, on). French "quand" in these phrases.
    "kan": ("quand", frozenset({"jusqu'a", "c'est", "depuis", "pour", "et", "mais"}),
            frozenset({"je", "tu", "il", "ils", "elle", "elles", "on", "nous", "vous",
                       "meme", "est-ce"})),
    # Wolof pa (father). French "pas" after these French words.
    "pa": ("pas", frozenset({
        "n'ai", "n'est", "n'a", "sais", "c'est", "j'ai", "veux", "peux", "peut",
        "comprends", "comprend", "connais", "suis", "ont", "avons", "sont", "vais", "va",
        "fais", "fait", "ca", "marche", "il y a", "y a", "ne", "je", "moi", "toujours",
        "encore", "rien", "n'ont", "sait", "vient", "paie", "payent", "paye", "donne",
        "donnent", "as", "a", "mais", "ou", "non", "svp", "trouve"}), frozenset()),
    # Pular/Soninke e (with, and). French "est" typed as it sounds, after these words only.
    "e": ("est", frozenset({"il", "elle", "ce", "qui", "en", "ca", "cela", "tout", "c'",
                            "ou", "quel", "quelle", "qu'il", "qu'elle"}), frozenset()),
    # Wolof wi (this one): "ndox wi". French "oui" alone or after these words.
    "wi": ("oui", frozenset({"ah", "oh", "bon", "ok", "mais", "alors", "et"}), frozenset()),
    # "je c" = "je sais"
}

_PAYLOAD = re.compile(r"^\s*/\w")
# The annotation tail of a Rasa example: ](entity) or ]{"entity": ...}.
_ANNOTATION = re.compile(r"(\]\([^()]*\)|\]\{[^{}]*\})")
# Letters only: "5000" and "10000" are amounts, not stretched words.
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_PUNCT_REPEATS = re.compile(r"([^\w\s'\[\](){}\":,-])\1+")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"[\w']+")
_DIGITS = re.compile(r"\d")
# "10 000", "1 500 000": a thousands separator, not two numbers.
_THOUSANDS = re.compile(r"(?<!\d )\b(\d{1,3})((?: \d{3})+)\b(?! \d)")
_DIGIT_SCALE = re.compile(r"\b(\d+) ?(mille|mil|milles)\b")
_DOUBLED = re.compile(r"(\w)\1")
_EMOJI_WORD = re.compile("|".join(map(re.escape, _EMOJI_WORDS)))
# Pictographs, dingbats, symbols, flags, skin tones, variation selectors, zero-width joiner.
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2190-\u21FF"
                    "\u2300-\u23FF\u25A0-\u25FF\uFE0E\uFE0F\u200D\u20E3]")


def fold_letters(text: str) -> str:
    """Casefold and fold special letters and accents to plain ASCII-like letters."""
    if text.isascii():
        return text.lower().replace("`", "'")
    text = unicodedata.normalize("NFC", text).casefold()
    # A doubled nasal (Pular kaŋŋe) is typed once on plain keyboards: "kange".
    text = text.replace("ŋŋ", "ŋ").replace("ɲɲ", "ɲ").replace("ññ", "ñ")
    text = text.translate(_FOLD_TABLE)
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def _drop_emojis(text: str) -> str:
    if text.isascii():
        return text
    if _EMOJI_WORD.search(text):
        text = _EMOJI_WORD.sub(lambda m: _EMOJI_WORDS[m.group(0)], text)
    return _EMOJI.sub(" ", text)


def _unstretch(word: str) -> str:
    """"ouii" → "oui", "bonsoiir" → "bonsoir": a doubled letter undone only when that gives a
    known French word."""
    if word in _STRETCHED or not _DOUBLED.search(word):
        return word
    single = _DOUBLED.sub(r"\1", word)
    if single in _STRETCHED:
        return single
    return word


def _elide(word: str) -> str | None:
    """"lor" → "l'or", "lautorisation" → "l'autorisation", "quil" → "qu'il"."""
    if word in _ELIDED_ANYWAY:
        return _ELIDED_ANYWAY[word]
    if len(word) < 3 or word[0] not in _ELISION_FIRST or word in _NOT_ELIDED or "'" in word:
        return None
    prefix = "qu" if word.startswith("qu") else word[0]
    rest = word[len(prefix):]
    if rest in _ELIDED_WORDS:
        return f"{prefix}'{rest}"
    return None


def words_to_digits(tokens: list[str]) -> list[str]:
    """French number words to digits: ["deux", "cent", "mille", "francs"] → ["200000",
    "francs"]. "un"/"une" alone stay articles and "mil" alone stays millet; "et" joins
    ("vingt et un"); "deux trois jours" stays two numbers."""
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        total = current = 0
        j = i
        while j < n:
            tok = tokens[j]
            if tok in _UNITS:
                v = _UNITS[tok]
                tens = current % 100
                if j > i and tokens[j - 1] in _SCALES and _SCALES[tokens[j - 1]] >= 1000 \
                        and current == 0:
                    current = v  # "mille cinq (cents)"
                elif current == 0 and j == i:
                    current = v
                elif current and tens == 0 and v < 100:
                    current += v  # "deux cent cinq"
                elif v == 20 and tens == 4:
                    current += 76  # "quatre vingt"
                elif tens in (20, 30, 40, 50) and v < 10:
                    current += v  # "vingt cinq"
                elif tens in (10, 70, 90) and v < 10:
                    current += v  # "dix-sept", "soixante-dix-sept"
                elif tens in (60, 80) and v < 20:
                    current += v  # "soixante dix", "quatre vingt dix"
                else:
                    break
            elif tok in _SCALES:
                scale = _SCALES[tok]
                if scale == 100:
                    if current >= 100:
                        break
                    current = (current or 1) * 100
                else:
                    if j == i and tok == "mil":
                        break  # millet
                    total += (current or 1) * scale
                    current = 0
            elif tok in _NUMBER_JOINERS:
                if not (current % 100 in (20, 30, 40, 50, 60) and j + 1 < n
                        and tokens[j + 1] in ("un", "une", "onze")):
                    break
            elif tok.isdigit() and j == i and j + 1 < n and tokens[j + 1] in _SCALES \
                    and _SCALES[tokens[j + 1]] >= 1000:
                current = int(tok)  # "5 mille"
            else:
                break
            j += 1
        span = tokens[i:j]
        if not span or span in (["un"], ["une"]) or (len(span) == 1 and span[0].isdigit()):
            out.append(tokens[i])
            i += 1
        else:
            out.append(str(total + current))
            i = j
    return out


def _fr_context(word: str, before: str | None, after: str | None) -> str | None:
    """The French reading of a word that is also a local-language word, when the words
    around it are French; else None."""
    rule = _CONTEXTUAL.get(word)
    if rule is None:
        return None
    french, after_words, before_words = rule
    if word == "sa":
        # "c'est sa femme": "sa" is French "his"; "c sa", "pas sa" at the end, "sa va": "ca".
        if after in before_words or (after is None and before in after_words):
            return french
        return None
    if word == "ya" and before == "il":
        return "y a"  # "il ya des chinois"
    if word == "wi":
        return french if after is None and (before is None or before in after_words) else None
    if (before is not None and before in after_words) or (
            after is not None and after in before_words):
        return french
    return None


def _expand_token(word: str, before: str | None, after: str | None) -> str:
    if word == "1":
        # "1 homme", "1 vrai personne": the article typed as a digit ("option 1" and
        # Bambara "n ye 1 sugandi" stay).
        return "un" if after in _AFTER_ARTICLE_ONE else word
    if word in _CONTEXTUAL:
        return _fr_context(word, before, after) or word
    expansion = SMS_ABBREVIATIONS.get(word)
    if expansion is not None:
        return expansion
    if word == "c":
        if before in ("je", "j"):
            return "sais"  # "je c pa" → "je sais pas"
        # "c bon" → "c'est bon"; keep "option c", a final "c" and "c'" forms.
        if after is not None and after[0].isalpha() and before not in _C_KEEP_AFTER:
            return "c'est"
        return word
    if word == "g":
        # "g compris" → "j'ai compris", but "2 g d'or" stays grams.
        if after is not None and after[0].isalpha() and not (
                before is not None and _DIGITS.search(before)):
            return "j'ai"
        return word
    elided = _elide(word)
    if elided is not None:
        return elided
    return _unstretch(word)


def _may_change(word: str) -> bool:
    """A cheap test: can _expand_token rewrite this word at all?"""
    return (word in SMS_ABBREVIATIONS or word in _CONTEXTUAL or word in ("c", "g", "1")
            or word in _ELIDED_ANYWAY
            or (len(word) > 2 and word[0] in _ELISION_FIRST)
            or (len(word) > 1 and _DOUBLED.search(word) is not None))


_PRE_FOLD = [
    (re.compile(r"(?<![\w'])j[éè](?![\w'])"), "j'ai"),  # "jé compris"
    (re.compile(r"(?<![\w'])c[éè](?![\w'])"), "c'est"),  # "cé bon"
]


def _pass(text: str) -> str:
    """One pass of word-level rewriting over folded text."""
    parts = _TOKEN.split(text)
    words = _TOKEN.findall(text)
    expanded: list[str] = []
    for k, word in enumerate(words):
        if not _may_change(word):
            expanded.append(word)
            continue
        # A neighbour across punctuation ("ya, danger") is no context.
        before = expanded[-1].rsplit(" ", 1)[-1] if k and not parts[k].strip() else None
        after = words[k + 1] if k + 1 < len(words) and not parts[k + 1].strip() else None
        expanded.append(_expand_token(word, before, after))
    text = parts[0] + "".join(w + p for w, p in zip(expanded, parts[1:]))
    if _DIGITS.search(text) or any(w in _UNITS or w in _SCALES for w in words):
        text = _numbers(text)
    return text


def _normalize_plain(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    if "é" in text or "è" in text:
        for pattern, repl in _PRE_FOLD:
            text = pattern.sub(repl, text)
    text = fold_letters(_drop_emojis(text))
    text = _REPEATS.sub(r"\1\1", text)
    text = _PUNCT_REPEATS.sub(r"\1", text)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return text
    # A rewritten word can make its neighbour readable ("ya pa" → "il y a pa" → "il y a
    # pas"): repeat until nothing changes (two passes for almost every message).
    for _ in range(4):
        again = _pass(text)
        if again == text:
            break
        text = again
    return text


def _numbers(text: str) -> str:
    text = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), text)
    text = _DIGIT_SCALE.sub(lambda m: str(int(m.group(1)) * 1000), text)
    parts = _TOKEN.split(text)
    words = _TOKEN.findall(text)
    if not any(w in _UNITS or w in _SCALES for w in words):
        return text
    out = [parts[0]]
    k = 0
    while k < len(words):
        # A run of number words (and a digit before "mille"), joined by a space or a hyphen.
        j = k
        while j + 1 < len(words) and parts[j + 1] in (" ", "-") and (
                words[j + 1] in _UNITS or words[j + 1] in _SCALES
                or words[j + 1] in _NUMBER_JOINERS):
            j += 1
        run = words[k:j + 1]
        converted = words_to_digits(run)
        if converted == run:
            out += [words[k], parts[k + 1]]
            k += 1
            continue
        out.append(" ".join(converted))
        out.append(parts[j + 1])
        k = j + 1
    return "".join(out)


def normalize(text: str) -> str:
    """Return the canonical form of a user message or training example.

    >>> normalize("  Slt, jvx vendre mon OR à Kéniéba!! ")
    "salut, je veux vendre mon or a kenieba!"
    """
    if not text:
        return ""
    if _PAYLOAD.match(text):
        return text.strip()
    if "](" not in text and "]{" not in text:
        return _normalize_plain(text)
    parts = _ANNOTATION.split(text)
    # Odd indexes are annotation tails, kept verbatim; they start with "]".
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
        else:
            leading = " " if part[:1].isspace() and i else ""
            trailing = " " if part[-1:].isspace() and i < len(parts) - 1 else ""
            out.append(leading + _normalize_plain(part) + trailing)
    return "".join(out).strip()
