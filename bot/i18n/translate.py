"""Run-time translation: ``translator(lang).gettext("Menu principal")``."""

from __future__ import annotations

import gettext
import io
import logging
import threading
from pathlib import Path

from bot.facts import N_ as N_  # re-exported: bot.i18n.N_
from bot.i18n.languages import DEFAULT_LANGUAGE, normalize_language

log = logging.getLogger(__name__)


class Translator:
    """Interface text in one language; missing entries fall back to French.

    ``gettext``/``ngettext`` return the text unformatted: callers format placeholders
    themselves, e.g. ``t.gettext("Pays choisi : {country}.").format(country=name)``.
    """

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self._translations = translations

    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    def __repr__(self) -> str:
        return f"Translator({self.language!r})"


_cache: dict[tuple[str, Path], Translator] = {}
_lock = threading.Lock()


def translator(language: str | None, locales: Path | str | None = None) -> Translator:
    """The Translator for ``language`` (any spelling; unknown or None gives French).

    Catalogues are read once per process; call ``reload_translations()`` after the .po or
    .mo files change under a running process. ``locales`` points at another ``locales/``
    directory (tests use a copy); by default the repository's.
    """
    from bot.i18n.catalogues import Catalogues

    code = normalize_language(language)
    catalogues = Catalogues() if locales is None else Catalogues(Path(locales).parent)
    key = (code, catalogues.locales)
    with _lock:
        if key not in _cache:
            _cache[key] = Translator(code, _load_chain(code, catalogues))
        return _cache[key]


def reload_translations() -> None:
    """Forget loaded catalogues (the next ``translator()`` call reads the files again)."""
    with _lock:
        _cache.clear()


def _load_chain(code: str, catalogues) -> gettext.NullTranslations:
    french = _load(DEFAULT_LANGUAGE, catalogues)
    if code == DEFAULT_LANGUAGE:
        return french
    translations = _load(code, catalogues)
    translations.add_fallback(french)
    return translations


def _load(code: str, catalogues) -> gettext.NullTranslations:
    """The compiled catalogue of ``code``.

    Reads the .mo when it is at least as new as the .po; otherwise (fresh clone without
    ``make compile``, or a .po edited since) compiles the .po in memory, so a stale .mo never
    hides a translation.
    """
    from bot.i18n.catalogues import compile_catalogue

    po, mo = catalogues.po_path(code), catalogues.mo_path(code)
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fileobj:
            return gettext.GNUTranslations(fileobj)
    if po.exists():
        log.info("i18n: %s is missing or older than the .po; compiling in memory", mo)
        data, _, problems = compile_catalogue(catalogues.read(code))
        for problem in problems:
            log.warning("i18n: left out: %s", problem)
        return gettext.GNUTranslations(io.BytesIO(data))
    log.warning("i18n: no catalogue for %s under %s; using French", code, catalogues.locales)
    return gettext.NullTranslations()
