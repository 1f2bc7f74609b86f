"""Map links for places and directions: OpenStreetMap (default) or Apple Maps.

The tools return the URL in every case (so a plan can text or email it) and open it in
the browser only when a display exists (`DesktopOpener`).

URL shapes
----------
OpenStreetMap (openstreetmap.org; free text is geocoded by the page with Nominatim):

- place:       ``https://www.openstreetmap.org/search?query=<place>``
- directions:  ``https://www.openstreetmap.org/directions?engine=<engine>&from=<start>&to=<end>``
  where engine is ``fossgis_osrm_car`` (d) or ``fossgis_osrm_foot`` (w). An empty start
  leaves ``from`` out and the page asks for it (a web page cannot know where "here" is).
  OpenStreetMap has no public-transit router; "r" shows the walking route and says so.
  (The page also accepts ``route=<lat>,<lon>;<lat>,<lon>`` for coordinates; we only have
  free text, which ``from``/``to`` take.)

Apple Maps (maps.apple.com; opens the Maps app on Apple devices, a web map elsewhere):

- place:       ``https://maps.apple.com/?q=<place>``
- directions:  ``https://maps.apple.com/?saddr=<start>&daddr=<end>&dirflg=d|w|r``
  (no ``saddr`` = from the current location).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from pocketagent.backends.opener import DesktopOpener
from pocketagent.errors import ConfigError, ToolError
from pocketagent.tools.protocols import MapsApp

TRANSPORT_MODES = {"d": "driving", "w": "walking", "r": "public transit"}

# Words a model or user may write instead of the single-letter codes.
_TRANSPORT_SYNONYMS = {
    "d": "d", "driving": "d", "drive": "d", "car": "d",
    "w": "w", "walking": "w", "walk": "w", "foot": "w", "on foot": "w",
    "r": "r", "transit": "r", "public transit": "r", "public transport": "r", "bus": "r", "train": "r",
    "subway": "r", "metro": "r",
}  # fmt: skip

OSM_BASE = "https://www.openstreetmap.org"
OSM_ENGINES = {"d": "fossgis_osrm_car", "w": "fossgis_osrm_foot", "r": "fossgis_osrm_foot"}
APPLE_BASE = "https://maps.apple.com/"
MAX_PLACE_LENGTH = 500


def normalize_transport(transport: object) -> str:
    """'d', 'w' or 'r' from the code or a common word; ToolError otherwise. Empty means driving."""
    if transport is None or (isinstance(transport, str) and not transport.strip()):
        return "d"
    if not isinstance(transport, str):
        raise ToolError(f"transport must be 'd', 'w' or 'r', got {transport!r}")
    code = _TRANSPORT_SYNONYMS.get(" ".join(transport.lower().split()))
    if code is None:
        raise ToolError(f"unknown transport {transport!r}; use 'd' (driving), 'w' (walking) or 'r' (public transit)")
    return code


def _place(value: object, what: str, allow_empty: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ToolError(f"{what} must be text, got {type(value).__name__}")
    text = " ".join(value.split())  # newlines and tabs from model output become spaces
    if not text and not allow_empty:
        raise ToolError(f"{what} is empty; say which place to show")
    if len(text) > MAX_PLACE_LENGTH:
        raise ToolError(f"{what} is too long ({len(text)} characters) to be a place name or address")
    return text


def osm_place_url(location: str) -> str:
    """OpenStreetMap search page for a place."""
    return f"{OSM_BASE}/search?{urlencode({'query': location})}"


def osm_directions_url(start: str, end: str, mode: str) -> str:
    """OpenStreetMap directions page; `start` "" leaves the start for the user to fill in."""
    params = {"engine": OSM_ENGINES[mode]}
    if start:
        params["from"] = start
    params["to"] = end
    return f"{OSM_BASE}/directions?{urlencode(params)}"


def apple_place_url(location: str) -> str:
    """Apple Maps link for a place."""
    return f"{APPLE_BASE}?{urlencode({'q': location})}"


def apple_directions_url(start: str, end: str, mode: str) -> str:
    """Apple Maps directions; no `saddr` means the current location."""
    params = {"saddr": start} if start else {}
    params.update({"daddr": end, "dirflg": mode})
    return f"{APPLE_BASE}?{urlencode(params)}"


_PROVIDERS: dict[str, tuple[Callable[[str], str], Callable[[str, str, str], str]]] = {
    "openstreetmap": (osm_place_url, osm_directions_url),
    "apple": (apple_place_url, apple_directions_url),
}


def map_provider_names() -> list[str]:
    return sorted(_PROVIDERS)


class MapLinks(MapsApp):
    """The maps tools: build a provider's URL, open it where a display exists, return it."""

    def __init__(self, provider: str = "openstreetmap", opener: DesktopOpener | None = None) -> None:
        if provider not in _PROVIDERS:
            raise ConfigError(f"unknown maps provider {provider!r}; available: {', '.join(map_provider_names())}")
        self.provider = provider
        self._place_url, self._directions_url = _PROVIDERS[provider]
        self._opener = opener if opener is not None else DesktopOpener()

    def maps_open_location(self, location: str) -> str:
        """The map URL of `location` (opened in the browser when possible)."""
        url = self._place_url(_place(location, "location"))
        self._opener.open(url)
        return url

    def maps_show_directions(self, start_location: str, end_location: str, transport: str) -> str:
        """The directions URL from `start_location` ("" = here) to `end_location`."""
        start = _place(start_location, "start location", allow_empty=True)
        end = _place(end_location, "destination")
        mode = normalize_transport(transport)
        url = self._directions_url(start, end, mode)
        self._opener.open(url)
        if self.provider == "openstreetmap" and mode == "r":
            return f"{url} (OpenStreetMap has no public-transit routing; this is the walking route)"
        return url
