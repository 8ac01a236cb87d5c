"""The appearance set in the admin: its form (colour, texts, avatars checked by
content), the reply time computed from real first responses, and what the page and
the widget's loader get of it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from chat import appearance, colors, services
from chat.models import APPEARANCE_ID, Appearance, Message, TeamAvatar, Thread
from chat.selectors import widget_appearance
from tests.samples import pdf, png

pytestmark = pytest.mark.django_db

CHANGE_URL = f"/admin/chat/appearance/{APPEARANCE_ID}/change/"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_reply_time() -> Any:
    appearance.forget_reply_time()
    yield
    appearance.forget_reply_time()


@pytest.fixture
def owner(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_superuser("owner", password="x" * 12)
    client = Client()
    client.force_login(user)
    return client


def form_data(**changes: Any) -> dict[str, Any]:
    data = {
        "color": "#0f766e",
        "position": "bottom-left",
        "launcher_label_en": "Chat with us",
        "launcher_label_tr": "Bize yazın",
        "greeting_en": "Hello from the shop!",
        "greeting_tr": "Dükkandan merhaba!",
        "team_name_en": "Shop team",
        "team_name_tr": "Dükkan ekibi",
        "_save": "Save",
    }
    data.update(changes)
    return data


def image_file(
    name: str = "face.png", color: tuple[int, int, int] = (200, 0, 0)
) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, png((300, 200), color), content_type="image/png")


# ------------------------------------------------------------------ the admin form


def test_the_list_opens_the_one_row_and_nothing_can_be_added(owner: Client) -> None:
    listing = owner.get("/admin/chat/appearance/")
    assert listing.status_code == 302
    assert listing["Location"] == CHANGE_URL
    assert owner.get("/admin/chat/appearance/add/").status_code == 403
    page = owner.get(CHANGE_URL)
    assert page.status_code == 200
    assert 'id="appearance-preview"' in page.content.decode()
    assert owner.get("/admin/chat/appearance/2/change/").status_code == 302


def test_saving_the_form_sets_every_field_and_adds_avatars(owner: Client) -> None:
    data = form_data(new_avatars=[image_file("a.png"), image_file("b.png")])
    response = owner.post(CHANGE_URL, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    row = Appearance.objects.get()
    assert (row.color, row.position, row.team_name_tr) == (
        "#0f766e",
        "bottom-left",
        "Dükkan ekibi",
    )
    avatars = list(TeamAvatar.objects.all())
    assert len(avatars) == 2
    served = Client().get(f"/team/avatars/{avatars[0].pk}.webp")
    assert served["Content-Type"] == "image/webp"
    assert b"".join(served.streaming_content)[8:12] == b"WEBP"  # type: ignore[attr-defined]


def test_a_bad_colour_is_refused_and_nothing_changes(owner: Client) -> None:
    response = owner.post(CHANGE_URL, form_data(color="red; }"))
    assert response.status_code == 200
    assert "Enter a colour as # and six hexadecimal digits" in response.content.decode()
    assert not Appearance.objects.exists()


def test_a_short_colour_is_taken_as_its_six_digits(owner: Client) -> None:
    owner.post(CHANGE_URL, form_data(color="#ABC"))
    assert Appearance.objects.get().color == "#aabbcc"


def test_a_fourth_avatar_is_refused_and_nothing_changes(owner: Client) -> None:
    owner.post(CHANGE_URL, form_data(new_avatars=[image_file(), image_file()]))
    before = list(TeamAvatar.objects.values_list("pk", flat=True))
    response = owner.post(
        CHANGE_URL,
        form_data(new_avatars=[image_file(), image_file()], team_name_en="Renamed"),
    )
    assert response.status_code == 200
    assert "A team shows at most 3 avatars" in response.content.decode()
    assert list(TeamAvatar.objects.values_list("pk", flat=True)) == before
    assert Appearance.objects.get().team_name_en == "Shop team"


def test_removing_an_avatar_makes_room_for_another(owner: Client) -> None:
    owner.post(CHANGE_URL, form_data(new_avatars=[image_file() for _ in range(3)]))
    first = TeamAvatar.objects.order_by("pk").first()
    assert first is not None
    response = owner.post(
        CHANGE_URL, form_data(remove_avatars=[first.pk], new_avatars=[image_file()])
    )
    assert response.status_code == 302
    assert TeamAvatar.objects.count() == 3
    assert not TeamAvatar.objects.filter(pk=first.pk).exists()


def test_a_file_that_is_not_an_image_is_refused_and_nothing_changes(
    owner: Client,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    renamed = SimpleUploadedFile("face.png", pdf(), content_type="image/png")
    response = owner.post(CHANGE_URL, form_data(new_avatars=[image_file(), renamed]))
    assert response.status_code == 200
    assert "“face.pdf” is not an image. Choose a JPEG, PNG, GIF or WebP file." in (
        response.content.decode().replace("&quot;", '"')
    )
    assert not TeamAvatar.objects.exists()
    assert not Appearance.objects.exists()


def test_the_form_is_in_turkish_for_a_turkish_owner(owner: Client) -> None:
    page = owner.get(CHANGE_URL, headers={"accept-language": "tr"})
    assert "Önizleme" in page.content.decode()


# ------------------------------------------------------------------ reply time

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def conversation(
    asked_ago: dt.timedelta, reply_after: dt.timedelta | None, *, now: Any = NOW
) -> Thread:
    """A thread whose visitor wrote ``asked_ago`` before ``now`` and an operator
    answered ``reply_after`` later (never when None), the visitor having written
    again meanwhile."""
    _visitor, thread = services.start_visitor(session_key=uuid.uuid4().hex)
    asked_at = now - asked_ago
    rows = [(Message.Author.VISITOR, asked_at)]
    if reply_after is not None:
        rows += [
            (Message.Author.VISITOR, asked_at + reply_after / 2),
            (Message.Author.OPERATOR, asked_at + reply_after),
        ]
    for seq, (author, at) in enumerate(rows, start=1):
        Message.objects.create(
            thread=thread, seq=seq, author=author, body="x", created_at=at
        )
    Thread.objects.filter(pk=thread.pk).update(updated_at=rows[-1][1])
    return thread


def test_the_median_first_response_picks_its_bucket() -> None:
    for minutes in (2, 4, 30, 50, 55):
        conversation(dt.timedelta(days=1), dt.timedelta(minutes=minutes))
    assert appearance.compute_reply_time_bucket(now=NOW) == "hour"


def test_fast_replies_are_a_few_minutes() -> None:
    for minutes in (1, 2, 3, 9, 300):
        conversation(dt.timedelta(days=2), dt.timedelta(minutes=minutes))
    assert appearance.compute_reply_time_bucket(now=NOW) == "minutes"


def test_threads_left_unanswered_for_a_day_count_as_slow() -> None:
    for _ in range(3):
        conversation(dt.timedelta(days=3), dt.timedelta(minutes=2))
    for _ in range(3):
        conversation(dt.timedelta(days=3), None)
    conversation(dt.timedelta(hours=2), None)  # still waiting: left out
    assert appearance.compute_reply_time_bucket(now=NOW) == "minutes"
    conversation(dt.timedelta(days=3), None)
    assert appearance.compute_reply_time_bucket(now=NOW) is None  # past a day


def test_nothing_is_shown_without_enough_conversations() -> None:
    for _ in range(4):
        conversation(dt.timedelta(days=1), dt.timedelta(minutes=5))
    assert appearance.compute_reply_time_bucket(now=NOW) is None


def test_conversations_older_than_two_weeks_do_not_count() -> None:
    for _ in range(5):
        conversation(dt.timedelta(days=20), dt.timedelta(minutes=5))
    for _ in range(5):
        conversation(dt.timedelta(days=1), dt.timedelta(hours=3))
    assert appearance.compute_reply_time_bucket(now=NOW) == "hours"


def test_an_operator_message_before_the_visitor_wrote_is_no_reply() -> None:
    for _ in range(5):
        thread = conversation(dt.timedelta(days=1), None)
        Message.objects.create(
            thread=thread,
            seq=2,
            author=Message.Author.OPERATOR,
            body="x",
            created_at=NOW - dt.timedelta(days=2),
        )
    assert appearance.compute_reply_time_bucket(now=NOW) is None


def test_the_reply_time_is_one_query_and_then_none_for_minutes(
    django_assert_num_queries: Any, settings: Any
) -> None:
    settings.SOHBET_REPLY_TIME_SECONDS = 300
    for _ in range(5):
        conversation(dt.timedelta(days=2), None, now=timezone.now())
    with django_assert_num_queries(1):
        appearance.get_reply_time_bucket()
    with django_assert_num_queries(0):
        appearance.get_reply_time_bucket()


# ------------------------------------------------------------ the page, the loader


def test_the_loaders_dict_is_in_the_visitors_language_with_defaults(
    settings: Any,
) -> None:
    settings.SOHBET_SITE_NAME = "Acme"
    services.update_appearance(
        values={"color": "#ffcc00", "team_name_en": "Acme support"}
    )
    english = widget_appearance("en-GB")
    assert english == {
        "color": "#ffcc00",
        "textColor": "#111111",
        "position": "bottom-right",
        "launcherLabel": "",
        "greeting": "Ask us anything. The Acme support team will answer right here.",
        "teamName": "Acme support",
        "avatars": [],
        "replyTime": None,
    }
    turkish = widget_appearance("tr")
    assert (turkish["teamName"], turkish["greeting"]) == (
        "Acme",
        "Aklınıza takılan her şeyi sorun. Acme ekibi size burada yanıt verecek.",
    )


def test_the_appearance_is_cached_until_it_changes(
    settings: Any,
    django_assert_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SOHBET_APPEARANCE_CACHE_SECONDS = 60
    settings.SOHBET_REPLY_TIME_SECONDS = 300
    cache.clear()
    appearance.get_reply_time_bucket()
    widget_appearance("en")
    with django_assert_num_queries(0):
        widget_appearance("tr")
    with django_capture_on_commit_callbacks(execute=True):
        services.update_appearance(values={"greeting_en": "Changed"})
    assert widget_appearance("en")["greeting"] == "Changed"


def test_the_page_shows_the_team_greeting_and_reply_time(owner: Client) -> None:
    owner.post(CHANGE_URL, form_data(new_avatars=[image_file()]))
    for _ in range(5):
        conversation(dt.timedelta(days=1), dt.timedelta(hours=2), now=timezone.now())
    html = Client().get("/", headers={"accept-language": "tr"}).content.decode()
    assert '<h1 class="site-name" id="site-name">Dükkan ekibi</h1>' in html
    assert "Dükkandan merhaba!" in html
    assert '<link rel="stylesheet" href="/theme/0f766e.css">' in html
    avatar = TeamAvatar.objects.get()
    assert f'<img src="/team/avatars/{avatar.pk}.webp"' in html
    assert 'data-reply-time="Genellikle birkaç saat içinde yanıt verir"' in html


def test_the_colour_style_sheet_keeps_text_readable() -> None:
    response = Client().get("/theme/ffcc00.css")
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    css = response.content.decode()
    assert "--primary: #ffcc00;" in css and "--primary-text: #111111;" in css
    assert Client().get("/theme/FFCC00.css").status_code == 404


@pytest.mark.parametrize(
    "color", ["#4f46e5", "#ffcc00", "#777777", "#22c55e", "#000000"]
)
def test_every_colour_gets_text_and_shades_that_reach_aa(color: str) -> None:
    schemes = colors.theme(color)
    assert colors.contrast(schemes["light"]["primary-text"], color) >= colors.AA
    light_fg = schemes["light"]["primary-fg"]
    dark_fg = schemes["dark"]["primary-fg"]
    assert colors.contrast(light_fg, colors.LIGHT_SURFACE) >= colors.AA
    assert colors.contrast(light_fg, "#ffffff") >= colors.AA
    assert colors.contrast(dark_fg, colors.DARK_SURFACE) >= colors.AA
    assert colors.contrast(dark_fg, "#15151d") >= colors.AA
