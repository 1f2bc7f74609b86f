"""Demo personal data for `pocketagent init --demo`: contacts, calendars, reminders, notes.

Written in the workspace layout the local stores read (see `backends/local/*`):
`contacts/demo.vcf` (vCard 4.0) and `contacts/exported-2019.vcf` (vCard 3.0, as an older
address-book export would be), `calendars/{Calendar,Work,Family,Personal,Reminders,Bills}.ics`,
and Markdown notes in `notes/<folder>/`. Names cover the hand-written eval set (non-ASCII
names, nicknames such as "Tío Manuel" and "Abuela Rosa", an ambiguous "Sam"). Events are
placed around `now` so the calendar looks current. All addresses use example.com/.org/.net
and phone numbers are fictional (555-01xx, Ofcom's 020 7946 0xxx drama range).

Existing files are never overwritten: a file that is already there is skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pocketagent.backends.dates import DateRules
from pocketagent.backends.local.atomic import atomic_write_text
from pocketagent.backends.local.calendar import prepare_event, prepare_reminder, wrap_in_calendar
from pocketagent.backends.local.contacts import Contact
from pocketagent.backends.local.vcard import serialize_vcards

# (full name, given, family, nicknames, email, phone)
_CONTACTS_V4: list[tuple[str, str, str, tuple[str, ...], str, str]] = [
    ("Eren Erdoğan", "Eren", "Erdoğan", (), "eren.erdogan@example.com", "+1-415-555-0101"),
    ("Björn Lindqvist", "Björn", "Lindqvist", (), "bjorn@example.org", "+1-415-555-0102"),
    ("Maëlle Durand", "Maëlle", "Durand", (), "maelle.durand@example.net", "+1-415-555-0103"),
    ("Manuel Ortega", "Manuel", "Ortega", ("Tío Manuel",), "manuel.ortega@example.com", "+1-415-555-0104"),
    ("Rosa Martínez", "Rosa", "Martínez", ("Abuela Rosa", "Abuela"), "rosa.martinez@example.com", "+1-415-555-0105"),
    ("Matías Fernández", "Matías", "Fernández", (), "matias@example.org", "+1-415-555-0106"),
    ("Zeynep Kaya", "Zeynep", "Kaya", (), "zeynep.kaya@example.com", "+1-415-555-0107"),
    ("Yusuf Demir", "Yusuf", "Demir", (), "yusuf.demir@example.net", "+1-415-555-0108"),
    ("Wen-Hao Chen", "Wen-Hao", "Chen", (), "wenhao.chen@example.com", "+1-415-555-0109"),
    ("Thủy Nguyễn", "Thủy", "Nguyễn", ("Thuy",), "thuy.nguyen@example.org", "+1-415-555-0110"),
    ("Teodora Ionescu", "Teodora", "Ionescu", ("Teo",), "teodora@example.com", "+1-415-555-0111"),
    ("Sunita Rao", "Sunita", "Rao", (), "sunita.rao@example.net", "+1-415-555-0112"),
    ("Rosalind Okafor", "Rosalind", "Okafor", ("Roz",), "rosalind.okafor@example.com", "+1-415-555-0113"),
    ("Ravi Kumar", "Ravi", "Kumar", (), "ravi.kumar@example.org", "+1-415-555-0114"),
    ("Paloma Reyes", "Paloma", "Reyes", (), "paloma.reyes@example.com", "+1-415-555-0115"),
    ("Ottilie Brandt", "Ottilie", "Brandt", ("Tilly",), "ottilie.brandt@example.net", "+44 20 7946 0116"),
    ("Nadia Haddad", "Nadia", "Haddad", (), "nadia.haddad@example.com", "+1-415-555-0117"),
    ("Mustafa Aydın", "Mustafa", "Aydın", (), "mustafa.aydin@example.org", "+1-415-555-0118"),
    ("Lorcan Ó Briain", "Lorcan", "Ó Briain", (), "lorcan@example.com", "+44 20 7946 0119"),
    ("Leonie Schäfer", "Leonie", "Schäfer", (), "leonie.schaefer@example.net", "+1-415-555-0120"),
    ("Kaveh Tehrani", "Kaveh", "Tehrani", (), "kaveh.tehrani@example.com", "+1-415-555-0121"),
    ("Kalinda Walker", "Kalinda", "Walker", (), "kalinda.walker@example.org", "+1-415-555-0122"),
    ("Kalani Akana", "Kalani", "Akana", (), "kalani.akana@example.com", "+1-415-555-0123"),
    ("Hyun-woo Park", "Hyun-woo", "Park", ("Hyun",), "hyunwoo.park@example.net", "+1-415-555-0124"),
    ("Greer Mackenzie", "Greer", "Mackenzie", (), "greer@example.com", "+1-415-555-0125"),
    ("Esteban Morales", "Esteban", "Morales", (), "esteban.morales@example.org", "+1-415-555-0126"),
    ("Ekaterina Volkova", "Ekaterina", "Volkova", ("Katya",), "ekaterina.volkova@example.com", "+1-415-555-0127"),
    ("Cosmin Popescu", "Cosmin", "Popescu", (), "cosmin.popescu@example.net", "+1-415-555-0128"),
    ("Aditya Sharma", "Aditya", "Sharma", (), "aditya.sharma@example.com", "+1-415-555-0129"),
    ("Sam Lee", "Sam", "Lee", (), "sam.lee@example.com", "+1-415-555-0130"),
    ("Sam Ortiz", "Sam", "Ortiz", (), "sam.ortiz@example.org", "+1-415-555-0131"),
    ("Adaeze Okonkwo", "Adaeze", "Okonkwo", (), "a.okonkwo@example.org", ""),
    ("Maria Alves", "Maria", "Alves", ("Mom", "Mum"), "maria.alves@example.com", "+1-415-555-0133"),
    # The senders of the demo inbox (demo_mail_files.py) and the README's example request.
    ("Sid Shah", "Sid", "Shah", (), "sid.shah@example.com", "+1-415-555-0140"),
    ("Nick Brennan", "Nick", "Brennan", (), "nick.brennan@example.com", "+1-415-555-0141"),
    ("Priya Raman", "Priya", "Raman", (), "priya.raman@example.com", "+1-415-555-0142"),
]

# An older export in vCard 3.0 (TYPE=pref, CRLF, a folded NOTE line).
_CONTACTS_V3 = """BEGIN:VCARD\r
VERSION:3.0\r
N:Kovács;Ilona;;;\r
FN:Ilona Kovács\r
EMAIL;TYPE=INTERNET,HOME,pref:ilona.kovacs@example.com\r
EMAIL;TYPE=INTERNET,WORK:ilona@work.example.com\r
TEL;TYPE=CELL,pref:+1-415-555-0134\r
NOTE:Met at the climbing gym\\, loves birthday parties. Party is at 2209 Fult\r
 on St.\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
N:de Vries;Ilse;;;\r
FN:Ilse de Vries\r
EMAIL;TYPE=INTERNET:ilse.devries@example.net\r
TEL;TYPE=WORK:+1-415-555-0135\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
N:Yılmaz;Deniz;;;\r
FN:Deniz Yılmaz\r
EMAIL;TYPE=INTERNET:deniz.yilmaz@example.com\r
TEL;TYPE=CELL:+1-415-555-0136\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
N:Özdemir;Cem;;;\r
FN:Cem Özdemir\r
EMAIL;TYPE=INTERNET:cem.ozdemir@example.org\r
TEL;TYPE=CELL:+1-415-555-0137\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
N:Çelik;Aylin;;;\r
FN:Aylin Çelik\r
EMAIL;TYPE=INTERNET:aylin.celik@example.com\r
TEL;TYPE=CELL:+1-415-555-0138\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
N:Jansen;Bram;;;\r
FN:Bram Jansen\r
EMAIL;TYPE=INTERNET:bram.jansen@example.net\r
TEL;TYPE=CELL:+1-415-555-0139\r
END:VCARD\r
"""

_NOTES: dict[str, str] = {
    "Household/Home.md": "# Home\n\n- Replace the hallway bulb\n- Water heater is making noises\n",
    "Household/Kitchen remodel.md": (
        "# Kitchen remodel\n\nBudget: $18,000\n\n- Cabinets: shaker, sage green\n- Countertop: quartz, "
        "quote from Stonecraft due Friday\n- Contractor: Esteban Morales\n- Start date: after the holidays\n"),
    "Work/Board.md": "# Board\n\nNext board meeting: first Thursday of the month.\n\n## Open items\n- Hiring plan\n",
    "Work/Project Phoenix.md": (
        "# Project Phoenix\n\nGoal: migrate billing to the new platform by Q2.\n\n"
        "- Owner: Teodora Ionescu\n- Risks: data migration, vendor contract\n"),
    "Travel/Hotel confirmations.md": (
        "# Hotel confirmations\n\n- Lisbon, Hotel Avenida: conf #LX-48213, check-in Dec 12\n"
        "- Porto, Casa do Rio: conf #PO-99120, check-in Dec 15\n"),
    "Travel/Lisbon.md": "# Lisbon\n\nBelém tower, LX Factory, pastéis at Manteigaria.\n",
    "Notes/Gate codes.md": "# Gate codes\n\nFront gate: 4821#\nGarage: 1937*\nBike room: 0614\n",
    "Notes/Books to read.md": "# Books to read\n\n- The Left Hand of Darkness\n- Piranesi\n- Cien años de soledad\n",
    "Notes/Groceries.md": "# Groceries\n\n- oat milk\n- eggs\n- coffee beans\n",
    "Recipes/Abuela Rosa's flan.md": (
        "# Abuela Rosa's flan\n\n1 can condensed milk, 1 can evaporated milk, 5 eggs, vanilla.\n"
        "Caramelize 1 cup sugar. Bake in a water bath, 175 °C, 50 minutes.\n"),
}


def _events(monday: datetime) -> dict[str, list[tuple[str, timedelta, int, str, list[str], str]]]:
    # calendar -> (title, offset from Monday 00:00, minutes, location, invitees, notes); minutes 0 = all day
    def hours(day: int, hour: int, minute: int = 0) -> timedelta:
        return timedelta(days=day, hours=hour, minutes=minute)

    return {
        "Calendar": [
            ("Dentist", hours(3, 16), 45, "Bright Smiles Dental, 450 Sutter St", [], "Bring the insurance card"),
            ("Lunch with Paloma", hours(2, 12, 30), 60, "Tartine Manufactory", ["paloma.reyes@example.com"], ""),
            ("Haircut", hours(8, 11), 30, "", [], ""),
        ],
        "Work": [
            ("Team standup", hours(1, 9, 30), 15, "https://meet.jit.si/team-standup", [], ""),
            ("1:1 with Teodora", hours(2, 15), 30, "", ["teodora@example.com"], "Project Phoenix status"),
            ("Quarterly planning", hours(4, 10), 120, "Room Atlas",
             ["cosmin.popescu@example.net", "leonie.schaefer@example.net", "aditya.sharma@example.com"], ""),
            ("Design review", hours(9, 14), 60, "", ["teodora@example.com", "wenhao.chen@example.com"], ""),
        ],
        "Family": [
            ("Abuela Rosa's birthday", timedelta(days=5), 0, "", [], "Bring the flan"),
            ("Family call", hours(6, 18), 60, "", [], ""),
        ],
        "Personal": [
            ("Yoga class", hours(2, 7), 60, "CorePower", [], ""),
            ("Climbing with Ilona", hours(10, 19), 90, "Mission Cliffs", [], ""),
        ],
    }


def _write_new(path: Path, text: str, written: list[Path]) -> None:
    if path.exists():
        return
    atomic_write_text(path, text)
    written.append(path)


def write_demo_personal_data(home: Path, now: datetime, rules: DateRules | None = None) -> list[Path]:
    """Write demo contacts, calendars, reminders and notes under `home`; returns the files written.

    `rules` gives the time zone for the demo events (default: the system zone). Files that
    already exist are left as they are.
    """
    home = Path(home)
    rules = DateRules(rules.timezone if rules else DateRules().timezone, "allow")
    written: list[Path] = []

    cards = [Contact(full, given, family, nicks, (email,) if email else (), (phone,) if phone else (),
                     uid=f"urn:uuid:00000000-0000-4000-8000-{i:012d}").to_vcard()
             for i, (full, given, family, nicks, email, phone) in enumerate(_CONTACTS_V4, start=1)]
    _write_new(home / "contacts" / "demo.vcf", serialize_vcards(cards), written)
    _write_new(home / "contacts" / "exported-2019.vcf", _CONTACTS_V3, written)

    monday = datetime.combine((now - timedelta(days=now.weekday())).date(), datetime.min.time())
    fmt = "%Y-%m-%d %H:%M:%S"
    for calendar, events in _events(monday).items():
        components = []
        for title, offset, minutes, location, invitees, notes in events:
            start = monday + offset
            end = start + (timedelta(minutes=minutes) if minutes else timedelta(days=1))
            item = prepare_event(title, start.strftime(fmt), end.strftime(fmt), location, invitees, notes, rules)
            components.append(item.component)
        _write_calendar(home / "calendars" / f"{calendar}.ics", calendar, components, written)

    reminders = {
        "Reminders": [("Renew passport", monday + timedelta(days=14, hours=9), "Appointment form online", 5, False),
                      ("Call the landlord about the radiator", None, "", 0, False),
                      ("Send Ilona's birthday card", monday + timedelta(days=4, hours=18), "", 1, False)],
        "Bills": [("Pay the electricity bill", monday + timedelta(days=7), "", 0, True)],
    }
    for list_name, items in reminders.items():
        components = [prepare_reminder(name, due.strftime(fmt) if due else "", notes, priority, all_day,
                                       rules).component for name, due, notes, priority, all_day in items]
        _write_calendar(home / "calendars" / f"{list_name}.ics", list_name, components, written)

    for relative, text in _NOTES.items():
        _write_new(home / "notes" / relative, text, written)
    (home / "notes" / "Clients").mkdir(parents=True, exist_ok=True)
    return written


def _write_calendar(path: Path, name: str, components: list, written: list[Path]) -> None:
    if path.exists() or not components:
        return
    calendar = wrap_in_calendar(name, components[0])
    for component in components[1:]:
        calendar.add_component(component)
    calendar.add_missing_timezones()
    atomic_write_text(path, calendar.to_ical().decode("utf-8"))
    written.append(path)
