"""A series' recurrence rule in words (calendars.rule_words.describe): every rule shape in
English, and Spanish and German through the translation functions a page passes in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calendars.rule_words import describe, zone_label

MT = ZoneInfo("America/Denver")
# The monthly series' first start: Friday 18 December 2026, 22:00 MT, six hours.
START = datetime(2026, 12, 18, 22, 0, tzinfo=MT)
END = START + timedelta(hours=6)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=MONTHLY;BYDAY=3FR", "every third Friday of the month"),
        ("FREQ=MONTHLY;BYDAY=FR;BYSETPOS=3", "every third Friday of the month"),
        ("RRULE:FREQ=MONTHLY;BYDAY=-1SU", "every last Sunday of the month"),
        ("FREQ=MONTHLY;BYDAY=+1MO,3MO", "every first Monday and third Monday of the month"),
        ("FREQ=MONTHLY;BYDAY=-2TH", "every second-to-last Thursday of the month"),
        ("FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO", "on the first Monday of every 2 months"),
        ("FREQ=MONTHLY;BYDAY=FR", "every Friday"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "every month on day 15"),
        ("FREQ=MONTHLY;BYMONTHDAY=15,1", "every month on days 1 and 15"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "every month on the last day"),
        ("FREQ=MONTHLY;INTERVAL=3", "every 3 months on day 18"),
        (
            "FREQ=MONTHLY;BYDAY=3FR;BYMONTH=7,1",
            "every third Friday of the month, in January and July",
        ),
        ("FREQ=WEEKLY;BYDAY=FR", "every Friday"),
        ("FREQ=WEEKLY", "every Friday"),  # the first start's weekday
        ("FREQ=WEEKLY;INTERVAL=3;BYDAY=TU", "every 3 weeks on Tuesday"),
        ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "every Monday, Wednesday, and Friday"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=SU", "every 2 weeks on Tuesday and Thursday"),
        ("FREQ=DAILY", "every day"),
        ("freq=daily;interval=2", "every 2 days"),
        ("FREQ=DAILY;BYDAY=SA,SU", "every Saturday and Sunday"),
        ("FREQ=YEARLY", "every year on December 18"),
        ("FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYMONTHDAY=1", "every 2 years on March 1"),
    ],
)
def test_each_rule_shape_in_english_words(rule: str, words: str) -> None:
    assert describe(rule, START, END, zone="MT") == f"{words}, 22:00–04:00 MT"
    if rule not in TAKES_THE_DAY_FROM_THE_START:
        assert describe(rule) == words


# Rules that leave the day to DTSTART: without a first start they have no words.
TAKES_THE_DAY_FROM_THE_START = {"FREQ=WEEKLY", "FREQ=MONTHLY;INTERVAL=3", "FREQ=YEARLY"}


def test_a_rule_leaving_the_day_to_the_start_needs_the_start() -> None:
    for rule in TAKES_THE_DAY_FROM_THE_START:
        assert describe(rule) == f"repeats by the rule {rule}"


def test_the_monthly_series_reads_as_the_issue_says() -> None:
    assert (
        describe("FREQ=MONTHLY;BYDAY=3FR", START, END, zone="MT")
        == "every third Friday of the month, 22:00–04:00 MT"
    )


def test_count_and_until_end_the_sentence() -> None:
    assert describe("FREQ=DAILY;COUNT=5", START, END, zone="MT") == (
        "every day, 22:00–04:00 MT (5 times)"
    )
    assert describe("FREQ=DAILY;COUNT=1") == "every day (once)"
    assert describe("FREQ=WEEKLY;BYDAY=TU;UNTIL=20271231", START, END, zone="MT") == (
        "every Tuesday, 22:00–04:00 MT, until December 31, 2027"
    )
    # UNTIL in UTC is read in the series' zone: 06:59 UTC on 1 January is 31 December MT.
    assert describe("FREQ=DAILY;UNTIL=20270101T065900Z", START, END).endswith(
        "until December 31, 2026"
    )


def test_times_of_short_long_and_open_windows() -> None:
    half_hour = datetime(2026, 12, 18, 0, 0, tzinfo=MT)
    assert describe("FREQ=WEEKLY;BYDAY=FR", half_hour, half_hour + timedelta(minutes=30)) == (
        "every Friday, 00:00–00:30"
    )
    assert describe("FREQ=WEEKLY", START, START + timedelta(hours=30), zone="MT") == (
        "every Friday, from 22:00 MT for 30 hours"
    )
    assert describe("FREQ=WEEKLY", START, START + timedelta(hours=24, minutes=30)) == (
        "every Friday, from 22:00 for 1470 minutes"
    )
    assert describe("FREQ=WEEKLY", START, None, zone="MT") == "every Friday, 22:00 MT"


def test_wall_clock_times_across_a_dst_change() -> None:
    # 1 November 2026 02:00 MDT falls back to 01:00 MST: the window is still 22:00-04:00.
    start = datetime(2026, 10, 31, 22, 0, tzinfo=MT)
    end = datetime(2026, 11, 1, 4, 0, tzinfo=MT)
    assert describe("FREQ=MONTHLY;BYDAY=-1SA", start, end, zone="MT") == (
        "every last Saturday of the month, 22:00–04:00 MT"
    )


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=YEARLY;BYWEEKNO=20",
        "FREQ=YEARLY;BYYEARDAY=100",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=MONTHLY;BYDAY=7FR",
        "FREQ=WEEKLY;BYDAY=2FR",
        "FREQ=MONTHLY;BYMONTHDAY=-3",
        "FREQ=HOURLY",
        "FREQ=DAILY;INTERVAL=0",
        "not a rule",
        "",
    ],
)
def test_shapes_without_words_show_the_rule_and_never_raise(rule: str) -> None:
    assert describe(rule, START, END) == f"repeats by the rule {rule}"


def test_zone_label() -> None:
    assert zone_label(MT) == "MT"
    assert zone_label(ZoneInfo("Asia/Kolkata")) in {"IST", "Asia/Kolkata"}


# --- other languages: the page passes Flask-Babel's gettext/ngettext -----------------
# A fake catalog stands in for the .po files (translated later): it proves every word of
# the sentence goes through the translation functions, and that whole phrases with named
# placeholders let each language order and inflect them.

SPANISH = {
    "every %(days)s of the month": "cada %(days)s del mes",
    "third %(weekday)s": "tercer %(weekday)s",
    "last %(weekday)s": "último %(weekday)s",
    "%(rule)s, %(time)s": "%(rule)s, %(time)s",
    ("every week on %(weekdays)s", "every %(num)d weeks on %(weekdays)s"): (
        "cada semana el %(weekdays)s",
        "cada %(num)d semanas el %(weekdays)s",
    ),
    ("every day", "every %(num)d days"): ("cada día", "cada %(num)d días"),
    "%(description)s, until %(date)s": "%(description)s, hasta el %(date)s",
}
GERMAN = {
    "every %(days)s of the month": "jeden %(days)s im Monat",
    "third %(weekday)s": "dritten %(weekday)s",
    "last %(weekday)s": "letzten %(weekday)s",
    "%(rule)s, %(time)s": "%(rule)s, %(time)s",
    ("every week on %(weekdays)s", "every %(num)d weeks on %(weekdays)s"): (
        "jede Woche am %(weekdays)s",
        "alle %(num)d Wochen am %(weekdays)s",
    ),
    ("every day", "every %(num)d days"): ("jeden Tag", "alle %(num)d Tage"),
    "%(description)s, until %(date)s": "%(description)s, bis %(date)s",
}


def fake(catalog: dict[Any, Any]) -> dict[str, Any]:
    def gettext(message: str, **variables: Any) -> str:
        text = catalog.get(message, f"<{message}>")
        return text % variables if variables else text

    def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
        forms = catalog.get((singular, plural), (f"<{singular}>", f"<{plural}>"))
        return forms[0 if num == 1 else 1] % {"num": num, **variables}

    return {"gettext": gettext, "ngettext": ngettext}


@pytest.mark.parametrize(
    ("locale", "catalog", "rule", "words"),
    [
        ("es", SPANISH, "FREQ=MONTHLY;BYDAY=3FR", "cada tercer viernes del mes, 22:00–04:00 MT"),
        ("de", GERMAN, "FREQ=MONTHLY;BYDAY=3FR", "jeden dritten Freitag im Monat, 22:00–04:00 MT"),
        ("es", SPANISH, "FREQ=MONTHLY;BYDAY=-1SU", "cada último domingo del mes, 22:00–04:00 MT"),
        ("de", GERMAN, "FREQ=MONTHLY;BYDAY=-1SU", "jeden letzten Sonntag im Monat, 22:00–04:00 MT"),
        (
            "es",
            SPANISH,
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,TH",
            "cada 3 semanas el martes y jueves, 22:00–04:00 MT",
        ),
        (
            "de",
            GERMAN,
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,TH",
            "alle 3 Wochen am Dienstag und Donnerstag, 22:00–04:00 MT",
        ),
        ("de", GERMAN, "FREQ=DAILY;INTERVAL=2", "alle 2 Tage, 22:00–04:00 MT"),
    ],
)
def test_spanish_and_german_through_the_translation_functions(
    locale: str, catalog: dict[Any, Any], rule: str, words: str
) -> None:
    assert describe(rule, START, END, locale=locale, zone="MT", **fake(catalog)) == words


def test_dates_of_until_follow_the_language() -> None:
    rule = "FREQ=DAILY;UNTIL=20271231"
    assert describe(rule, START, END, locale="de", **fake(GERMAN)).endswith("bis 31. Dezember 2027")
    assert describe(rule, START, END, locale="es", **fake(SPANISH)).endswith(
        "hasta el 31 de diciembre de 2027"
    )


def test_every_message_reaches_the_catalogs() -> None:
    """`make catalogs` extracts what describe() translates: each message of the fake
    catalogs above, every ordinal, and the plural forms."""
    from pathlib import Path

    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file

    from calendars import rule_words

    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = {
        message if isinstance(message, str) else tuple(message)
        for _, message, _, _ in extract_from_file(
            "python", str(Path(rule_words.__file__)), keywords=keywords
        )
    }
    wanted = set(SPANISH) | set(GERMAN) | set(rule_words.ORDINAL_WEEKDAYS.values())
    assert wanted <= found, wanted - found
    assert "repeats by the rule %(rule)s" in found
