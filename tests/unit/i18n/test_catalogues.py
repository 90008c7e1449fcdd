"""The committed catalogues: complete, really translated, with plural rules that load."""

from __future__ import annotations

import gettext
import io
import textwrap

import pytest
from babel import Locale, UnknownLocaleError

from bot.i18n import LANGUAGES, common, translator
from bot.i18n.catalogues import (
    REVIEWED,
    Catalogues,
    compile_catalogue,
    get_status,
    has_status,
    is_translated,
    iter_messages,
)
from bot.i18n.languages import PLURAL_FORMS

from .conftest import snapshot

LOCAL_LANGUAGES = [code for code in LANGUAGES if code != "fr"]
SEEDED = [value for name, value in vars(common).items()
          if name.isupper() and isinstance(value, str)]
SEEDED += list(common.COUNTRY_NAMES.values())
# Words that are the same in French and some local languages ("Mali", "Menu") prove nothing.
DIFFERENT_EVERYWHERE = ["Menu principal", "Choisissez votre langue :", "Oui", "Non",
                        "Dans quel pays travaillez-vous ?", "Parler à une personne"]

catalogues = Catalogues()


def test_languages_in_menu_order():
    assert list(LANGUAGES) == ["fr", "bm", "emk", "ff", "snk", "wo"]
    assert LANGUAGES["bm"] == "Bamanankan"


@pytest.mark.parametrize("language", LOCAL_LANGUAGES)
def test_translator_returns_real_translations_not_french(language):
    t = translator(language)
    assert t.language == language
    for msgid in DIFFERENT_EVERYWHERE:
        text = t.gettext(msgid)
        assert text and text != msgid, f"{language}: {msgid!r} fell back to French"


@pytest.mark.parametrize("language", LOCAL_LANGUAGES)
def test_compiled_mo_alone_carries_the_translations(project, language):
    """What `make compile` writes is what a fresh process loads (no .po needed)."""
    project.compile()
    for code in LANGUAGES:
        project.po_path(code).unlink()
    t = translator(language, locales=project.locales)
    assert t.gettext("Menu principal") == translator(language).gettext("Menu principal")
    assert t.gettext("Menu principal") != "Menu principal"


def test_unknown_or_missing_language_gives_french():
    for code in (None, "", "xx", "en", "zz_ZZ"):
        assert translator(code).language == "fr"
        assert translator(code).gettext("Menu principal") == "Menu principal"
    assert translator("bam").language == "bm"
    assert translator("ff-Latn-SN").language == "ff"
    assert translator("mlq").language == "emk"


def test_untranslated_message_falls_back_to_french():
    assert translator("bm").gettext("Une phrase que personne n'a traduite") == \
        "Une phrase que personne n'a traduite"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_message_is_in_the_catalogue(language):
    template = {message.id if isinstance(message.id, str) else message.id[0]
                for message in iter_messages(catalogues.read_template())}
    catalogue = catalogues.read(language)
    present = {message.id if isinstance(message.id, str) else message.id[0]
               for message in iter_messages(catalogue)}
    assert template - present == set(), f"run `make update`: missing in {language}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_seeded_interface_strings_are_translated(language):
    catalogue = catalogues.read(language)
    for msgid in SEEDED:
        message = catalogue.get(msgid)
        assert message is not None and is_translated(message), f"{language}: {msgid!r}"


@pytest.mark.parametrize("language", LOCAL_LANGUAGES)
def test_every_translation_has_a_status_and_none_is_fuzzy(language):
    for message in iter_messages(catalogues.read(language)):
        assert "fuzzy" not in message.flags, message.id
        if is_translated(message):
            assert has_status(message), f"{language}: {message.id!r} has no # status:"


def test_french_is_the_reviewed_source():
    for message in iter_messages(catalogues.read("fr")):
        assert message.string == message.id or is_translated(message)
        assert get_status(message) == REVIEWED


def test_no_placeholder_problems_in_committed_catalogues():
    assert [problem for entry in catalogues.coverage() for problem in entry.problems] == []


_POT = """\
msgid ""
msgstr ""

msgid "Oui"
msgstr ""

msgid "Non"
msgstr ""

msgid "Retour"
msgstr ""

msgid "Annuler"
msgstr ""

msgid "Un message"
msgid_plural "{n} messages"
msgstr[0] ""
msgstr[1] ""
"""

# Wolof: one reviewed, one draft, one without a status line (a draft), one still empty, one
# plural with a form missing (not translated), one obsolete entry (not in the template).
_WO = """\
msgid ""
msgstr ""
"Language: wo\\n"

# status: reviewed
msgid "Oui"
msgstr "Waaw"

# status: draft
msgid "Non"
msgstr "Déedéet"

msgid "Retour"
msgstr "Dellu"

# status: draft
msgid "Annuler"
msgstr ""

# status: reviewed
msgid "Un message"
msgid_plural "{n} messages"
msgstr[0] "Benn bataaxal"
msgstr[1] ""

# status: reviewed
msgid "Plus dans le modèle"
msgstr "Amatul"
"""


def test_coverage_counts_each_kind_of_message(tmp_path):
    (tmp_path / "locales").mkdir()
    (tmp_path / "locales" / "messages.pot").write_text(_POT, encoding="utf-8")
    project = Catalogues(tmp_path)
    project.po_path("wo").parent.mkdir(parents=True)
    project.po_path("wo").write_text(_WO, encoding="utf-8")

    report = {entry.language: entry for entry in project.coverage()}

    assert list(report) == list(LANGUAGES)
    wo = report["wo"]
    assert (wo.total, wo.translated, wo.reviewed, wo.draft, wo.missing) == (5, 3, 1, 2, 2)
    assert wo.problems == []
    for language in [code for code in LANGUAGES if code != "wo"]:  # no .po: nothing translated
        entry = report[language]
        assert (entry.total, entry.translated, entry.reviewed, entry.draft) == (5, 0, 0, 0)
        assert entry.missing == 5


def test_coverage_reports_placeholder_problems(tmp_path):
    (tmp_path / "locales").mkdir()
    (tmp_path / "locales" / "messages.pot").write_text(
        'msgid ""\nmsgstr ""\n\nmsgid "Pays choisi : {country}."\nmsgstr ""\n',
        encoding="utf-8")
    project = Catalogues(tmp_path)
    project.po_path("bm").parent.mkdir(parents=True)
    project.po_path("bm").write_text(
        'msgid ""\nmsgstr ""\n\n# status: draft\nmsgid "Pays choisi : {country}."\n'
        'msgstr "Jamana : {jamana}."\n', encoding="utf-8")

    [entry] = [entry for entry in project.coverage() if entry.language == "bm"]

    assert (entry.total, entry.translated, entry.draft) == (1, 1, 1)
    assert entry.problems == [
        "bm: «Pays choisi : {country}.»: unknown placeholder {jamana} (the French text has "
        "{country})",
        "bm: «Pays choisi : {country}.»: placeholder {country} missing from the translation"]


def test_the_committed_catalogues_cover_every_seeded_string():
    template = {message.id for message in catalogues.read_template() if message.id}
    assert set(SEEDED) <= template


# --- plural rules ---------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_po_files_declare_our_plural_forms(language):
    text = catalogues.po_path(language).read_text(encoding="utf-8")
    assert f'"Plural-Forms: {PLURAL_FORMS[language]}\\n"' in text
    assert f'"Language: {language}\\n"' in text


@pytest.mark.parametrize("language", ["emk", "snk"])
def test_babel_does_not_know_maninka_or_soninke(language):
    # The reason for our own Plural-Forms handling: if CLDR gains them, revisit languages.py.
    with pytest.raises(UnknownLocaleError):
        Locale.parse(language)


def _with_plural_message(project: Catalogues, language: str, forms: str) -> None:
    """Add one plural message to the copy's .pot and to the .po of ``language``."""
    path = project.po_path(language)
    path.write_text(path.read_text(encoding="utf-8") + textwrap.dedent(f"""
        # status: draft
        msgid "{{n}} puits"
        msgid_plural "{{n}} puits creusés"
        {forms}
        """), encoding="utf-8")


@pytest.mark.parametrize("language", ["emk", "snk"])
def test_languages_unknown_to_babel_compile_and_load_with_one_plural_form(project, language):
    _with_plural_message(project, language, 'msgstr[0] "dingɛ {n}"')
    catalogue = project.read(language)
    assert catalogue.locale is None  # Babel has no data for it...
    assert catalogue.num_plurals == 1  # ...but our rule is there
    data, count, problems = compile_catalogue(catalogue)
    assert problems == []
    loaded = gettext.GNUTranslations(io.BytesIO(data))
    assert loaded.info()["plural-forms"] == PLURAL_FORMS[language]
    for n in (0, 1, 2, 5, 1000):
        assert loaded.plural(n) == 0
        assert loaded.ngettext("{n} puits", "{n} puits creusés", n) == "dingɛ {n}"
    # Writing the file back keeps the header (Babel alone drops it when the locale is unknown).
    project.write(language, catalogue)
    assert "Plural-Forms: nplurals=1; plural=0;" in project.po_path(language).read_text("utf-8")


def test_french_plural_rule_counts_zero_as_singular(project):
    _with_plural_message(project, "fr", 'msgstr[0] "{n} puits"\nmsgstr[1] "{n} puits creusés"')
    data, _, _ = compile_catalogue(project.read("fr"))
    loaded = gettext.GNUTranslations(io.BytesIO(data))
    assert loaded.ngettext("{n} puits", "{n} puits creusés", 0) == "{n} puits"
    assert loaded.ngettext("{n} puits", "{n} puits creusés", 2) == "{n} puits creusés"


def test_incomplete_plural_is_left_out_not_shown_empty(project):
    _with_plural_message(project, "ff", 'msgstr[0] "ngasa {n}"\nmsgstr[1] ""')
    data, _, _ = compile_catalogue(project.read("ff"))
    loaded = gettext.GNUTranslations(io.BytesIO(data))
    assert loaded.ngettext("{n} puits", "{n} puits creusés", 3) == "{n} puits creusés"


# --- commands -------------------------------------------------------------------------------

def test_compile_is_idempotent(project):
    first = project.compile()
    assert all(result.written for result in first)
    before = {code: project.mo_path(code).read_bytes() for code in LANGUAGES}
    second = project.compile()
    assert not any(result.written for result in second)
    assert before == {code: project.mo_path(code).read_bytes() for code in LANGUAGES}


def test_compile_leaves_out_a_translation_that_breaks_placeholders(project):
    path = project.po_path("bm")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('msgstr "Jamana sugandilen : {country}."',
                                 'msgstr "Jamana sugandilen : {jamana}."'), encoding="utf-8")
    [result] = project.compile(["bm"])
    assert any("{jamana}" in problem for problem in result.problems)
    t = translator("bm", locales=project.locales)
    assert t.gettext("Pays choisi : {country}.") == "Pays choisi : {country}."


SAMPLE = '''\
from bot.i18n import N_, translator

TITLE = N_("Marqueur sans traduction immédiate")


def reply(lang, n):
    t = translator(lang)
    _ = t.gettext
    # TRANSLATORS: the main menu title.
    yield t.gettext("Menu principal")
    yield _("Texte nouveau")
    yield translator(lang).gettext("Appel en chaîne")
    yield t.ngettext("{n} puits", "{n} puits", n).format(n=n)
    yield t.gettext(TITLE)  # not a literal: nothing extracted
'''


def test_extract_finds_every_marker_and_update_keeps_translations(project):
    (project.root / "bot" / "sample.py").write_text(SAMPLE, encoding="utf-8")
    assert project.extract() == 5
    template = project.read_template()
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in iter_messages(template)} == {
        "Marqueur sans traduction immédiate", "Menu principal", "Texte nouveau",
        "Appel en chaîne", "{n} puits"}
    assert template.get("Menu principal").auto_comments == ["the main menu title."]

    added = project.update()
    assert added["bm"] == 4
    bm = project.read("bm")
    assert bm.get("Menu principal").string == "Menu kunba"  # kept
    new = bm.get("Texte nouveau")
    assert new.string == "" and get_status(new) == "draft" and has_status(new)
    assert bm.get("{n} puits").string == ("",)  # one form in Bambara
    assert project.read("ff").get("{n} puits").string == ("", "")
    assert project.read("fr").get("Texte nouveau").string == "Texte nouveau"
    assert "Oui" in bm.obsolete  # gone from the code: kept aside, not deleted

    # A string that comes back gets its old translation back.
    (project.root / "bot" / "sample.py").write_text(
        SAMPLE + 'OK = N_("Oui")\n', encoding="utf-8")
    project.extract()
    project.update()
    assert project.read("bm").get("Oui").string == "Ɔwɔ"


def test_extract_and_update_twice_change_nothing(project):
    (project.root / "bot" / "sample.py").write_text(SAMPLE, encoding="utf-8")
    project.extract()
    project.update()
    before = snapshot(project)
    project.extract()
    project.update()
    assert snapshot(project) == before


def test_update_of_the_real_catalogues_changes_nothing(project):
    """The committed .po files are up to date with the committed .pot."""
    before = snapshot(project)
    project.update()
    assert snapshot(project) == before
