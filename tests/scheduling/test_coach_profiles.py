"""Coach profiles: validating what a coach types, saving it, and the coach card data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling import coach_profiles as profiles
from scheduling.coach_access import NOT_A_COACH
from scheduling.coach_profiles import AVATAR_RESET, ProfileForm, ProfileOptions
from scheduling.errors import InvalidInput, NotAllowed, NotFound

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GUILD = 5


# ---------------------------------------------------------------- fakes


@dataclass
class FakeCoach:
    id: int
    guild_id: int
    user_id: int
    display_name: str
    timezone: str = "UTC"
    avatar_url: str | None = None
    bio: str = ""
    specialties: list[str] = field(default_factory=list)
    hourly_rate_minor: int | None = None
    currency: str = "USD"
    years_experience: int | None = None
    credentials: str = ""
    rating_sum: int = 0
    rating_count: int = 0
    sessions_completed: int = 0


class FakeCoaches:
    def __init__(self) -> None:
        self.rows: list[FakeCoach] = []
        self.updates: list[dict] = []

    async def get_by_user(self, guild_id, user_id):
        return next((c for c in self.rows if (c.guild_id, c.user_id) == (guild_id, user_id)),
                    None)

    async def create(self, *, guild_id, user_id, display_name, timezone="UTC", avatar_url=None):
        coach = FakeCoach(len(self.rows) + 1, guild_id, user_id, display_name, timezone,
                          avatar_url)
        self.rows.append(coach)
        return coach

    async def update_profile(self, coach, **values):
        self.updates.append(values)
        for key, value in values.items():
            setattr(coach, key, value)
        return coach


class FakeUow:
    def __init__(self, *, grants=(), currency=None, schedules=()) -> None:
        self.coach_grants = SimpleNamespace(list_for_guild=self._grants)
        self._grant_rows = [SimpleNamespace(kind=k, target_id=t) for k, t in grants]
        self.coaches = FakeCoaches()
        self._settings = None if currency is None else SimpleNamespace(currency=currency)
        self.guild_settings = SimpleNamespace(get=self._get_settings)
        self.schedule_rows = list(schedules)
        self.schedules = SimpleNamespace(get_by_name=self._schedule, set_timezone=self._set_tz)

    async def _grants(self, guild_id):
        return self._grant_rows

    async def _get_settings(self, guild_id):
        return self._settings

    async def _schedule(self, coach_id, name):
        return next((s for s in self.schedule_rows
                     if (s.coach_id, s.name) == (coach_id, name)), None)

    async def _set_tz(self, schedule_id, timezone):
        schedule = next(s for s in self.schedule_rows if s.id == schedule_id)
        schedule.timezone = timezone
        return schedule


def run(coroutine):
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the coroutine suspended")


def save(uow, form, options=None, user_id=10, role_ids=()):
    return run(profiles.save_profile(uow, guild_id=GUILD, user_id=user_id, role_ids=role_ids,
                                     member_name="Member Nick", form=form,
                                     options=options or ProfileOptions()))


# ---------------------------------------------------------------- field rules


def test_specialties_are_trimmed_collapsed_and_deduplicated_keeping_the_first_spelling():
    text = "  Query   letters , poetry,, POETRY ,\nquery LETTERS, Sci-fi  "
    assert profiles.normalise_specialties(text) == ("Query letters", "poetry", "Sci-fi")
    assert profiles.normalise_specialties("") == ()
    assert profiles.normalise_specialties(" , ,") == ()


def test_specialties_allow_ten_of_forty_characters():
    ten = ", ".join(f"topic {i}" for i in range(10))
    assert len(profiles.normalise_specialties(ten)) == 10
    assert len(profiles.normalise_specialties(ten + ", Topic 0")) == 10  # a duplicate
    with pytest.raises(InvalidInput, match="You listed 11 specialties; pick your 10"):
        profiles.normalise_specialties(ten + ", topic 10")
    assert profiles.normalise_specialties("x" * 40) == ("x" * 40,)
    with pytest.raises(InvalidInput, match="is 41 characters long; keep each to 40"):
        profiles.normalise_specialties("ok, " + "x" * 41)


def test_display_name_is_one_to_eighty_characters_with_spaces_collapsed():
    assert profiles.clean_display_name("  Ada \n  Lovelace ") == "Ada Lovelace"
    assert profiles.clean_display_name("a" * 80) == "a" * 80
    with pytest.raises(InvalidInput, match="cannot be empty"):
        profiles.clean_display_name(" \t ")
    with pytest.raises(InvalidInput, match="81 characters long; keep it to 80"):
        profiles.clean_display_name("a" * 81)


def test_bio_and_credentials_keep_text_as_given_within_limits():
    text = "Hi @everyone and <@&123>!\r\nLine two"
    assert profiles.clean_bio(f"  {text}  ") == "Hi @everyone and <@&123>!\nLine two"
    assert profiles.clean_bio("b" * 1000) == "b" * 1000
    with pytest.raises(InvalidInput, match="1001 characters long; keep it to 1000"):
        profiles.clean_bio("b" * 1001)
    assert profiles.clean_credentials("c" * 500) == "c" * 500
    with pytest.raises(InvalidInput, match="keep them to 500"):
        profiles.clean_credentials("c" * 501)


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("", "USD", None), ("   ", "EUR", None), ("40", "USD", 4000), ("$40.50", "USD", 4050),
    ("1,200", "EUR", 120000), ("3000", "JPY", 3000), ("0", "USD", 0),
    ("40,5", "EUR", 4050), ("€ 40,50", "EUR", 4050),
])
def test_hourly_rate_in_the_servers_currency(text, currency, minor):
    assert profiles.parse_hourly_rate(text, currency) == minor


@pytest.mark.parametrize(("text", "message"), [
    ("-5", "cannot be negative"),
    ("forty", "`forty` is not an hourly rate. Type an amount in USD"),
    ("40.555", "Hourly rate: USD prices have 2 decimal places"),
    ("1000000", "Hourly rate: 1,000,000 USD is more than"),
])
def test_hourly_rate_refusals_speak_of_rates(text, message):
    with pytest.raises(InvalidInput, match=message):
        profiles.parse_hourly_rate(text, "USD")


@pytest.mark.parametrize("url", [
    "https://example.com/me.png", "http://example.com/a/b/photo.JPG?size=256",
    "https://cdn.discordapp.com/avatars/1/abc.webp", "https://x.test/p.jpeg#frag",
    "https://x.test/anim.gif",
])
def test_avatar_urls_must_be_http_images(url):
    assert profiles.validate_avatar_url(f" {url} ") == url


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://example.com/me.png", "is not an http(s) link"),
    ("javascript:alert(1)//x.png", "is not an http(s) link"),
    ("example.com/me.png", "is not an http(s) link"),
    ("https:///me.png", "is not an http(s) link"),
    ("https://example.com/profile", "does not look like an image"),
    ("https://example.com/me.png.html", "does not look like an image"),
    ("https://example.com/a b.png", "is not a usable link"),
    ("https://example.com/" + "a" * 1100 + ".png", "is not a usable link"),
])
def test_other_avatar_urls_are_refused_with_what_to_do(url, problem):
    with pytest.raises(InvalidInput) as info:
        profiles.validate_avatar_url(url)
    assert problem in info.value.user_message
    assert "direct link to a picture" in info.value.user_message


def test_avatar_reset_words_go_back_to_the_discord_avatar():
    assert profiles.validate_avatar_url("Discord") is AVATAR_RESET
    assert profiles.validate_options(avatar_url="reset").avatar_url is AVATAR_RESET


def test_options_resolve_timezones_and_check_years():
    options = profiles.validate_options("berlin", None, 0)
    assert (options.timezone, options.avatar_url, options.years_experience) == (
        "Europe/Berlin", None, 0)
    with pytest.raises(InvalidInput, match="Unknown timezone `Atlantis`"):
        profiles.validate_options("Atlantis")
    for years in (-1, 81, True):
        with pytest.raises(InvalidInput, match="from 0 to 80"):
            profiles.validate_options(years_experience=years)


def test_timezone_suggestions_name_offsets_and_return_iana_names():
    suggestions = profiles.timezone_suggestions("tokyo", NOW)
    assert suggestions[0] == ("Asia/Tokyo (UTC+09:00, JST)", "Asia/Tokyo")
    assert len(profiles.timezone_suggestions("a", NOW)) == 25
    assert profiles.timezone_suggestions("", NOW)[0] == ("UTC (UTC+00:00)", "UTC")


# ---------------------------------------------------------------- the card


@pytest.mark.parametrize(("total", "count", "text"), [
    (0, 0, "No ratings yet"), (5, 1, "5.0 ★ (1 rating)"), (56, 12, "4.7 ★ (12 ratings)"),
    (9, 2, "4.5 ★ (2 ratings)"), (29, 6, "4.8 ★ (6 ratings)"), (17, 4, "4.3 ★ (4 ratings)"),
])
def test_rating_is_the_average_to_one_decimal(total, count, text):
    assert profiles.rating_text(total, count) == text


def test_card_shows_rate_rating_sessions_and_zone():
    coach = FakeCoach(1, GUILD, 10, "Ada", timezone="Europe/Berlin", hourly_rate_minor=4050,
                      currency="EUR", rating_sum=56, rating_count=12, sessions_completed=31,
                      specialties=["Poetry"], years_experience=3)
    card = profiles.coach_card(coach, NOW)
    assert (card.rate, card.rating, card.sessions_completed) == (
        "€40.50/hour", "4.7 ★ (12 ratings)", 31)
    assert card.timezone == "Europe/Berlin (UTC+01:00, CET)"
    assert card.specialties == ("Poetry",)
    assert profiles.coach_card(FakeCoach(2, GUILD, 11, "Bo"), NOW).rate is None
    assert profiles.rate_text(0, "USD") == "Free"


def test_form_is_prefilled_from_the_profile():
    coach = FakeCoach(1, GUILD, 10, "Ada", bio="Bio", specialties=["A", "B"],
                      hourly_rate_minor=4050, currency="EUR", credentials="MFA")
    assert profiles.form_for(coach) == ProfileForm("Ada", "Bio", "A, B", "40.50", "MFA")
    yen = FakeCoach(1, GUILD, 10, "Ada", hourly_rate_minor=3000, currency="JPY")
    assert profiles.form_for(yen).hourly_rate == "3000"


# ---------------------------------------------------------------- saving


def test_save_refuses_non_coaches_and_writes_nothing():
    uow = FakeUow()
    with pytest.raises(NotAllowed) as info:
        save(uow, ProfileForm("Ada"))
    assert info.value.user_message == NOT_A_COACH
    assert uow.coaches.rows == []


def test_save_writes_the_profile_in_the_servers_currency():
    uow = FakeUow(grants=[("role", 99)], currency="EUR")
    form = ProfileForm(" Ada  L. ", "Bio @everyone", "poetry, Poetry, fiction", "40,5",
                       "MFA")
    saved = save(uow, form, ProfileOptions("Europe/Paris", "https://x.test/a.png", 12),
                 role_ids=[99])
    coach = saved.coach
    assert (coach.display_name, coach.bio, coach.specialties) == (
        "Ada L.", "Bio @everyone", ["poetry", "fiction"])
    assert (coach.hourly_rate_minor, coach.currency) == (4050, "EUR")  # a decimal comma
    assert (coach.years_experience, coach.credentials) == (12, "MFA")
    assert (coach.timezone, coach.avatar_url) == ("Europe/Paris", "https://x.test/a.png")
    assert not saved.default_schedule_timezone_changed


def test_options_left_out_keep_their_values_and_reset_clears_the_avatar():
    uow = FakeUow(grants=[("member", 10)])
    save(uow, ProfileForm("Ada"), ProfileOptions("Asia/Tokyo", "https://x.test/a.png", 4))
    coach = save(uow, ProfileForm("Ada", hourly_rate="")).coach
    assert (coach.timezone, coach.avatar_url, coach.years_experience) == (
        "Asia/Tokyo", "https://x.test/a.png", 4)
    assert coach.hourly_rate_minor is None
    coach = save(uow, ProfileForm("Ada"), ProfileOptions(avatar_url=AVATAR_RESET)).coach
    assert coach.avatar_url is None


def test_a_new_profile_timezone_moves_the_default_schedule():
    default = SimpleNamespace(id=3, coach_id=1, name="default", timezone="UTC", is_default=True)
    evenings = SimpleNamespace(id=4, coach_id=1, name="evenings", timezone="UTC",
                               is_default=False)
    uow = FakeUow(grants=[("member", 10)], schedules=[default, evenings])
    saved = save(uow, ProfileForm("Ada"), ProfileOptions(timezone="Asia/Kolkata"))
    assert saved.default_schedule_timezone_changed
    assert (default.timezone, evenings.timezone) == ("Asia/Kolkata", "UTC")


def test_a_bad_field_writes_nothing():
    uow = FakeUow(grants=[("member", 10)])
    save(uow, ProfileForm("Ada", bio="first"))
    updates = len(uow.coaches.updates)
    with pytest.raises(InvalidInput, match="pick your 10"):
        save(uow, ProfileForm("Ada", bio="second",
                              specialties=",".join(str(i) for i in range(11))))
    assert len(uow.coaches.updates) == updates
    assert uow.coaches.rows[0].bio == "first"


def test_card_for_member_explains_non_coaches():
    uow = FakeUow(grants=[("member", 10), ("member", 12)])
    save(uow, ProfileForm("Ada"))
    card = run(profiles.card_for_member(uow, guild_id=GUILD, user_id=10, role_ids=[],
                                        member_name="Ada", now=NOW))
    assert card.display_name == "Ada"
    with pytest.raises(NotFound, match="Bo is not a coach on this server"):
        run(profiles.card_for_member(uow, guild_id=GUILD, user_id=11, role_ids=[],
                                     member_name="Bo", now=NOW))
    with pytest.raises(NotFound, match="Cy is a coach here but has not set up a profile"):
        run(profiles.card_for_member(uow, guild_id=GUILD, user_id=12, role_ids=[],
                                     member_name="Cy", now=NOW))


# ---------------------------------------------------------------- fuzz


@settings(max_examples=150, deadline=None)
@given(display_name=st.text(max_size=100), bio=st.text(max_size=1100),
       specialties=st.text(max_size=120)
       | st.lists(st.text(max_size=45), max_size=13).map(", ".join),
       rate=st.text(max_size=12) | st.decimals(-10, 200_000, places=3).map(str),
       credentials=st.text(max_size=520))
def test_fuzzed_profile_text_is_refused_cleanly_or_saved_normalised(
        display_name, bio, specialties, rate, credentials):
    uow = FakeUow(grants=[("member", 10)], currency="EUR")
    form = ProfileForm(display_name, bio, specialties, rate, credentials)
    try:
        coach = save(uow, form).coach
    except InvalidInput as error:
        assert error.user_message
        assert uow.coaches.updates == []
        return
    assert 1 <= len(coach.display_name) <= 80
    assert coach.display_name == coach.display_name.strip()
    assert len(coach.bio) <= 1000 and len(coach.credentials) <= 500
    assert len(coach.specialties) <= 10
    assert all(0 < len(s) <= 40 and s == " ".join(s.split()) for s in coach.specialties)
    assert len({s.casefold() for s in coach.specialties}) == len(coach.specialties)
    assert coach.hourly_rate_minor is None or coach.hourly_rate_minor >= 0
    assert coach.currency == "EUR"
    card = profiles.coach_card(coach, NOW)  # renders whatever was stored
    assert card.bio == coach.bio
