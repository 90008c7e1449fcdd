"""The gazetteer: spellings to places, homonyms resolved by country."""

from __future__ import annotations

import yaml

from bot.core.normalize import normalize
from bot.core.places import PLACES_CSV, find_places, load_places, resolve_place
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


def test_lookup_table_is_fresh_and_normalised() -> None:
    assert places_tool.main(["--source", str(PLACES_CSV), "--check"]) == 0
    data = yaml.safe_load(places_tool.LOOKUP_YML.read_text(encoding="utf-8"))
    entries = [line[2:] for line in data["nlu"][0]["examples"].splitlines()]
    assert "kenieba" in entries and "siguiri" in entries and "gamba gamba" in entries
    assert all(normalize(e) == e for e in entries)
    assert "mali" not in entries  # the country word, tagged from annotated examples instead
