"""The policy in the workspace's pages and API: the admin policy page (and who may see it), the
label selector's default and the model picker's data on the chat page, and the label API the
selector drives."""

from __future__ import annotations

import html
import json
import re

import httpx

from mamori.audit.labels import ACTION_LOWER, ACTION_RAISE
from mamori.domain.classification import Classification
from mamori.domain.principal import Role
from tests.web.conftest import MODEL, Live
from tests.web.test_reasoning_display import member_of


async def test_admin_policy_page_needs_sign_in(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.get("/admin/policy")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/policy"


async def test_admin_policy_page_is_refused_to_a_non_admin(live: Live) -> None:
    async with live.signed_in() as client:
        page = await client.get("/admin/policy")
        api = await client.get("/api/admin/policy")
        chat = await client.get("/")
    assert page.status_code == 403
    assert 'role="alert"' in page.text  # the error page, not the policy
    assert "c3-onprem" not in page.text and "policy-rules" not in page.text
    assert api.status_code == 403 and api.json()["error"]["code"] == "forbidden"
    # No link to the pages they may not open.
    assert 'href="/admin"' not in chat.text and "/admin/policy" not in chat.text


async def test_admin_policy_page_shows_rules_findings_endpoints_and_simulator(live: Live) -> None:
    admin = await live.new_user(Role.ADMIN)
    async with live.signed_in(admin) as client:
        client.cookies.set("mamori_lang", "ja")
        page = await client.get("/admin/policy")
        chat = await client.get("/")
    assert page.status_code == 200, page.text
    text = page.text
    assert 'id="policy-source"' in text
    # The rules in the policy's order: the first match decides, so the order is the meaning.
    rule_ids = re.findall(r'<tr data-rule="([^"]+)"', text)
    assert rule_ids == [r.id for r in live.services.policy.rules]
    assert rule_ids[:3] == ["confidential-never-tos", "c3-onprem", "c3-refuse"]
    assert "約款型外部サービス" in text  # a description, in Japanese
    assert "<code>my_number</code>" in text and "機密性3・特定個人情報" in text
    endpoints = re.findall(r'<tr data-endpoint="([^"]+)"', text)
    assert set(endpoints) == {e.name for e in live.services.registry.endpoints()}
    assert "未評価（既定値）" in text  # none of the test endpoints has an assessment
    for hook in ("sim-model", "sim-classification", "sim-special", "sim-endpoint", "sim-user"):
        assert f'id="{hook}"' in text, hook
    assert f'<option value="{MODEL}">' in text
    # The "check this text" box, with the four sources in Japanese.
    for hook in ("scan", "scan-text", "scan-source", "scan-submit", "scan-result"):
        assert f'id="{hook}"' in text, hook
    assert '<option value="document">文書</option>' in text
    assert 'href="/admin"' in chat.text  # the workspace leads admins to the console


async def test_chat_page_starts_new_conversations_at_the_groups_default(live: Live) -> None:
    username = await live.new_user()
    async with live.signed_in(username) as client:
        before = await client.get("/")
        await member_of(live, username, default_classification=Classification.C2)
        after = await client.get("/")
        created = await client.post("/api/conversations", json={"title": "x"})

    def selected(page: str) -> str:
        select = page[page.index('id="classification-select"') :]
        select = select[: select.index("</select>")]
        found = re.search(r'<option value="(\d)" selected>', select)
        assert found is not None
        return found.group(1)

    assert selected(before.text) == "1"  # the installation's default, 機密性1
    assert selected(after.text) == "2"
    assert created.json()["classification"] == 2  # what the selector said is what is stored


async def test_chat_page_gives_each_model_its_verdict_per_label(live: Live) -> None:
    async with live.signed_in() as client:
        page = await client.get("/")
        models = (await client.get("/api/models")).json()["models"]
    found = re.search(rf'<option value="{MODEL}"[^>]*data-policy=\'([^\']*)\'', page.text)
    assert found is not None
    policy = json.loads(html.unescape(found.group(1)))
    [served] = [m for m in models if m["name"] == MODEL]
    assert policy == served["policy"]
    assert set(policy) == {"0", "1", "2", "3"} and policy["3"]["usable"] is True


async def test_label_is_raised_freely_and_lowered_only_when_confirmed(live: Live) -> None:
    username = await live.new_user()
    async with live.signed_in(username) as client:
        created = await client.post("/api/conversations", json={"title": "t", "classification": 1})
        cid = created.json()["id"]
        path = f"/api/conversations/{cid}/classification"
        raised = await client.put(path, json={"classification": 3})
        refused = await client.put(path, json={"classification": 1})
        listed = (await client.get("/api/conversations")).json()["conversations"]
        lowered = await client.put(path, json={"classification": 1, "confirm_lower": True})
    assert raised.status_code == 200 and raised.json()["classification"] == 3
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "label_lowering_unconfirmed"
    assert [c["classification"] for c in listed if c["id"] == cid] == [3]  # still 3
    assert lowered.status_code == 200 and lowered.json()["classification"] == 1
    user = await live.user_row(username)
    actions = [r.action for r in await live.audit_rows(user_id=user.id)]
    assert sorted(actions) == sorted([ACTION_RAISE, ACTION_LOWER])


async def test_labels_and_policy_page_speak_english_when_asked(live: Live) -> None:
    admin = await live.new_user(Role.ADMIN)
    async with live.signed_in(admin) as client:
        client.cookies.set("mamori_lang", "en")
        chat = await client.get("/")
        page = await client.get("/admin/policy")
    assert ">Confidentiality 3</option>" in chat.text and "機密性3</option>" not in chat.text
    assert "Decision simulator" in page.text and "Assumed (not assessed)" in page.text
