"""Maps: URL shapes for OpenStreetMap and Apple Maps, transport codes, opening only with a display."""

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pocketagent.backends.maps import MapLinks, normalize_transport
from pocketagent.backends.opener import DesktopOpener
from pocketagent.errors import ConfigError, ToolError

NO_OPEN = DesktopOpener(enabled=False)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_osm_place_url_uses_the_search_form():
    url = MapLinks(opener=NO_OPEN).maps_open_location("de Young Museum, San Francisco")
    assert url.startswith("https://www.openstreetmap.org/search?")
    assert query(url) == {"query": ["de Young Museum, San Francisco"]}


@pytest.mark.parametrize(("mode", "engine"), [("d", "fossgis_osrm_car"), ("w", "fossgis_osrm_foot")])
def test_osm_directions_url(mode, engine):
    url = MapLinks(opener=NO_OPEN).maps_show_directions("Ferry Building", "Dolores Park", mode)
    assert url.startswith("https://www.openstreetmap.org/directions?")
    assert query(url) == {"engine": [engine], "from": ["Ferry Building"], "to": ["Dolores Park"]}


def test_osm_directions_from_current_location_leaves_from_out():
    url = MapLinks(opener=NO_OPEN).maps_show_directions("", "Lake Merritt", "d")
    assert query(url) == {"engine": ["fossgis_osrm_car"], "to": ["Lake Merritt"]}


def test_osm_transit_says_it_shows_walking():
    result = MapLinks(opener=NO_OPEN).maps_show_directions("", "de Young Museum", "r")
    url, _, note = result.partition(" ")
    assert query(url)["engine"] == ["fossgis_osrm_foot"]
    assert "no public-transit routing" in note


@pytest.mark.parametrize("mode", ["d", "w", "r"])
def test_apple_directions(mode):
    url = MapLinks("apple", opener=NO_OPEN).maps_show_directions("1 Market St", "Ocean Beach", mode)
    assert url.startswith("https://maps.apple.com/?")
    assert query(url) == {"saddr": ["1 Market St"], "daddr": ["Ocean Beach"], "dirflg": [mode]}


def test_apple_place_and_current_location():
    app = MapLinks("apple", opener=NO_OPEN)
    assert query(app.maps_open_location("Machu Picchu")) == {"q": ["Machu Picchu"]}
    assert query(app.maps_show_directions("", "Dotonbori", "w")) == {"daddr": ["Dotonbori"], "dirflg": ["w"]}


def test_transport_words_and_bad_transport():
    assert [normalize_transport(t) for t in ("driving", "Walking", "public transit", "", None)] == list("dwrdd")
    with pytest.raises(ToolError, match="unknown transport 'x'.*'d'.*'w'.*'r'"):
        MapLinks(opener=NO_OPEN).maps_show_directions("", "Paris", "x")
    with pytest.raises(ToolError, match="transport must be"):
        normalize_transport(3)


def test_empty_places_and_unknown_provider():
    app = MapLinks(opener=NO_OPEN)
    with pytest.raises(ToolError, match="location is empty"):
        app.maps_open_location("   ")
    with pytest.raises(ToolError, match="destination is empty"):
        app.maps_show_directions("Home", "", "d")
    with pytest.raises(ToolError, match="too long"):
        app.maps_open_location("x" * 600)
    with pytest.raises(ConfigError, match="unknown maps provider 'google'"):
        MapLinks("google")


@given(st.text(min_size=1, max_size=80).filter(lambda s: s.split()))
def test_any_place_round_trips_through_the_url(place):
    url = MapLinks(opener=NO_OPEN).maps_open_location(place)
    assert query(url)["query"] == [" ".join(place.split())]
    assert " " not in url and "\n" not in url


def test_url_is_returned_and_opened_only_with_a_display(tmp_path):
    log = tmp_path / "opened.txt"
    fake = tmp_path / "bin" / "xdg-open"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{log}"\n')
    fake.chmod(0o755)
    headless = DesktopOpener(env={"PATH": str(fake.parent)}, platform="linux")
    url = MapLinks(opener=headless).maps_open_location("Ocean Beach")
    assert url.startswith("https://") and not log.exists()

    desktop = DesktopOpener(env={"PATH": str(fake.parent), "DISPLAY": ":0"}, platform="linux")
    process = desktop.launch(url)
    assert process is not None and process.wait(timeout=30) == 0
    assert log.read_text().strip() == url
