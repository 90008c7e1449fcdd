"""The gazetteer: spellings to places, homonyms resolved by country."""

from __future__ import annotations

import yaml

from bot.core.normalize import normalize
from bot.core.places import (
    NEAR_KM,
    PLACES_CSV,
    distance_km,
    find_places,
    load_places,
    nearest_place,
    resolve_place,
)
from bot.devtools import places as places_tool


def test_all_rows_load_with_country_and_cluster() -> None:
    rows = load_places()
    assert len(rows) == 150
    assert {p.country for p in rows} == {"ML", "GN", "SN"}
    assert {p.cluster for p in rows} == {1, 2, 3, 4}
    assert sum(p.has_coordinates for p in rows) == 22


def test_devtools_reexports_load_places() -> None:
    assert places_tool.load_places() == load_places()


def test_spellings_accents_and_case_do_not_matter() -> None:
    assert resolve_place("siguiry").name == "Siguiri"
    assert resolve_place("KEDOUGOU").name == "Kédougou"
    assert resolve_place("tinkoto").name == "Tenkoto"
    assert resolve_place("nowhere-ville") is None
    assert resolve_place("") is None


def test_kenieba_is_the_malian_cercle_unless_in_senegal() -> None:
    assert resolve_place("Kéniéba").country == "ML"
    assert resolve_place("kenieba", country="SN").name == "Kéniaba"
    assert {p.country for p in find_places("kenieba")} == {"ML", "SN"}


def test_fadougou_has_two_rows() -> None:
    assert resolve_place("Fadougou", country="ML").name == "Fadougou (Mali)"
    assert resolve_place("Fadougou", country="SN").name == "Fadougou (Sénégal)"


def test_mali_the_prefecture_is_guinean() -> None:
    mali = resolve_place("Mali")
    assert mali.country == "GN" and mali.kind == "chief_town"
    assert resolve_place("mali", country="ML") is None


def test_lookup_table_is_fresh_and_normalized() -> None:
    assert places_tool.main(["--source", str(PLACES_CSV), "--check"]) == 0
    data = yaml.safe_load(places_tool.LOOKUP_YML.read_text(encoding="utf-8"))
    entries = [line[2:] for line in data["nlu"][0]["examples"].splitlines()]
    assert "kenieba" in entries and "siguiri" in entries and "gamba gamba" in entries
    assert all(normalize(e) == e for e in entries)
    assert "mali" not in entries  # the country word, tagged from annotated examples instead


# ---- names as people type them (issue 11) --------------------------------------------------
import pytest  # noqa: E402

from bot.core.places import phonetic_key, places_in_text  # noqa: E402


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("sigiri", "Siguiri"),
        ("siguri", "Siguiri"),  # a letter missing
        ("kedugu", "Kédougou"),
        ("kedougu", "Kédougou"),
        ("kenyeba", "Kéniéba"),
        ("KENIEBA", "Kéniéba"),
        ("sadiola", "Sadiola"),
        ("sadyola", "Sadiola"),
        ("sadiolla", "Sadiola"),
        ("karakena", "Kharakhéna"),
        ("joma balandou", "Djoma-Balandou"),
        ("tomboronkotto", "Tomboronkoto"),
        ("kintignan", "Kintinian"),
        ("niagasola", "Niagassola"),
        ("yanfolilla", "Yanfolila"),
    ],
)
def test_phonetic_and_misspelled_names_are_found(typed: str, name: str) -> None:
    assert resolve_place(typed).name == name


def test_phonetic_key_folds_french_spellings_of_one_sound() -> None:
    assert phonetic_key("Siguiri") == phonetic_key("sigiri")
    assert phonetic_key("Kédougou") == phonetic_key("kedugu")
    assert phonetic_key("Kéniéba") == phonetic_key("kenyeba")
    assert phonetic_key("Kharakhéna") == phonetic_key("karakena")
    assert phonetic_key("Kéniéba") != phonetic_key("Kéniaba")  # two places, kept apart


def test_short_names_are_never_guessed() -> None:
    assert find_places("doka") == []  # Doko only exactly: too short to guess
    assert find_places("bamako") == []
    assert find_places("village") == []


def test_homonyms_keep_their_country_rule_after_a_phonetic_match() -> None:
    assert resolve_place("kenyeba").country == "ML"
    assert resolve_place("kenyeba", country="SN").name == "Kéniaba"


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("kobada kangaba", "Kobada"),  # a site with its village: the site
        ("site de kobada vers kangaba", "Kobada"),
        ("Fekola Kéniéba", "Fadougou (Mali)"),
        ("fadougou kenieba", "Fadougou (Mali)"),  # the Fadougou in Kéniéba, not Senegal's
        ("fadougou kedugu", "Fadougou (Sénégal)"),
        ("mine de sadiola", "Mine de Sadiola (SEMOS pit)"),
    ],
)
def test_a_site_named_with_its_village(typed: str, first: str) -> None:
    assert resolve_place(typed).name == first


def test_places_in_text_reads_a_whole_message() -> None:
    names = [p.name for p in places_in_text("jsuis o site de kobada vers kangaba, kel prix")]
    assert names == ["Kobada", "Kangaba"]
    assert [p.name for p in places_in_text("je travaille a tinkotto pres de kedougou")] == [
        "Tenkoto", "Kédougou"]
    # The country, and ordinary words that sound like a short place name, are not places.
    assert places_in_text("une belle journee au mali") == []
    assert [p.name for p in places_in_text("mon frere est a kenyeba", "SN")] == ["Kéniaba"]
    assert places_in_text("") == []


def test_a_shared_location_finds_the_nearest_known_place_within_reach():
    assert nearest_place(12.55, -12.18).name == "Kédougou"  # a few hundred metres away
    assert nearest_place(11.42, -9.2).name == "Siguiri"
    # Two places share a point: the first in the gazetteer wins, always the same.
    assert nearest_place(14.5853, -11.76).name == "Ambidédi"
    assert nearest_place(0.0, 0.0) is None  # the Gulf of Guinea: nothing within reach
    # About 47 km west of Siguiri: still within reach by default, not within 20 km.
    assert round(distance_km(11.42, -9.6, 11.4167, -9.1667)) == 47 < NEAR_KM
    assert nearest_place(11.42, -9.6).name == "Siguiri"
    assert nearest_place(11.42, -9.6, max_km=20) is None
    assert round(distance_km(12.5556, -12.1807, 13.1, -11.4)) == 104  # Kédougou - Kéniéba
