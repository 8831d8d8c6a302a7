"""Conversation labels: chosen, raised freely, lowered only when confirmed, always audited."""

from __future__ import annotations

from mamori.domain.classification import Classification
from mamori.store.repos import audit
from tests.web.conftest import Live
from tests.web.test_app_api import parse_sse


async def test_a_label_goes_up_freely_and_down_only_when_confirmed(live: Live) -> None:
    name = await live.new_user()
    async with live.signed_in(name) as client:
        created = await client.post("/api/conversations", json={"title": "t"})
        conversation = created.json()
        assert conversation["classification"] == int(Classification.C1)
        url = f"/api/conversations/{conversation['id']}/classification"

        raised = await client.put(url, json={"classification": "機密性3"})
        assert raised.status_code == 200 and raised.json()["classification"] == 3

        refused = await client.put(url, json={"classification": 1})
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "label_lowering_unconfirmed"
        listed = (await client.get("/api/conversations")).json()["conversations"]
        assert [c["classification"] for c in listed if c["id"] == conversation["id"]] == [3]

        lowered = await client.put(url, json={"classification": 1, "confirm_lower": True})
        assert lowered.status_code == 200 and lowered.json()["classification"] == 1
        opened = await client.get(f"/api/conversations/{conversation['id']}/messages")
        assert opened.json()["conversation"]["classification"] == 1

        bad = await client.put(url, json={"classification": "極秘"})
        assert bad.status_code == 400

    async with live.signed_in() as stranger:
        theirs = await stranger.put(url, json={"classification": 3})
        assert theirs.status_code == 404

    user = await live.user_row(name)
    records = await live.services.db.read(lambda c: audit.list_audit(c, user_id=user.id))
    changes = [(r.action, r.label, r.classification) for _, r in reversed(records)]
    assert changes == [
        ("label.raise", Classification.C1, Classification.C3),
        ("label.lower", Classification.C3, Classification.C1),
    ]
    assert all(r.subject == conversation["id"] for _, r in records)


async def test_the_groups_default_is_where_labels_start_and_the_lowest_they_go(
    live: Live,
) -> None:
    name = await live.new_user()
    group = f"g-{name}"
    await live.services.accounts.create_group(group, default_classification=Classification.C2)
    await live.services.accounts.set_membership(group, name, member=True)
    async with live.signed_in(name) as client:
        default = await client.post("/api/conversations", json={})
        assert default.json()["classification"] == 2
        lower = await client.post("/api/conversations", json={"classification": "public"})
        assert lower.json()["classification"] == 2
        higher = await client.post("/api/conversations", json={"classification": "c3"})
        assert higher.json()["classification"] == 3
        url = f"/api/conversations/{higher.json()['id']}/classification"
        below = await client.put(url, json={"classification": 1, "confirm_lower": True})
        assert below.status_code == 400
        assert below.json()["error"]["code"] == "label_below_group_floor"
        floor = await client.put(url, json={"classification": 2, "confirm_lower": True})
        assert floor.status_code == 200 and floor.json()["classification"] == 2


async def test_a_my_number_raises_the_conversation_label_for_good(live: Live) -> None:
    async with live.signed_in() as client:
        created = await client.post("/api/conversations", json={"classification": "公開"})
        conversation = created.json()["id"]
        response = await client.post(
            f"/api/conversations/{conversation}/messages",
            json={"model": "gpt-oss-120b", "content": "個人番号 621498320257 の方の転入手続き"},
        )
        assert response.status_code == 200
        meta = next(data for name, data in parse_sse(response.text) if name == "meta")
        assert (meta["classification"], meta["special_personal"]) == (3, True)
        listed = (await client.get("/api/conversations")).json()["conversations"]
        assert [c["classification"] for c in listed if c["id"] == conversation] == [3]
