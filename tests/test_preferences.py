"""The Preferences page: each employee's own settings, one section per concern."""

from django.urls import reverse

from intercompany.preferences import sections


def test_preferences_page_opens_from_the_header_for_the_signed_in_employee(client, alice):
    client.force_login(alice)
    page = client.get(reverse("orders:sales-order-list"))
    assert reverse("preferences") in page.content.decode()
    response = client.get(reverse("preferences"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Preferences</h1>" in body
    for section in sections():
        assert str(section.title) in body


def test_anonymous_visitor_is_sent_to_log_in(client, db):
    response = client.get(reverse("preferences"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_post_to_an_unknown_section_is_refused(client, alice):
    client.force_login(alice)
    response = client.post(reverse("preferences"), {"section": "nonsense"})
    assert response.status_code == 400
