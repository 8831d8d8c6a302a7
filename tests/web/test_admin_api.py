"""The admin console's API on a live server: people and groups, API keys scoped to models,
and endpoints added, tested and removed; clerks get 403 everywhere; a scoped key is refused
another model on the OpenAI face."""

from __future__ import annotations

import uuid

import httpx
import pytest

from mamori.domain.principal import Role
from tests.web.conftest import MODEL, OLLAMA_MODEL, Live

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_clerks_cannot_use_the_admin_api(live: Live) -> None:
    async with live.signed_in() as clerk:
        for method, path in (
            ("GET", "/api/admin/users"),
            ("POST", "/api/admin/users"),
            ("GET", "/api/admin/groups"),
            ("GET", "/api/admin/keys"),
            ("GET", "/api/admin/endpoints"),
            ("POST", "/api/admin/endpoints/gpu1/test"),
            ("DELETE", "/api/admin/endpoints/gpu1"),
        ):
            body = {"username": "x"} if path.endswith("users") and method == "POST" else None
            response = await clerk.request(method, path, json=body)
            assert response.status_code in (403, 422), (method, path, response.status_code)
            if response.status_code == 422:  # parsed before the check: still no change made
                assert method == "POST"
        for page in ("/admin", "/admin/users", "/admin/keys", "/admin/endpoints"):
            assert (await clerk.get(page)).status_code == 403, page


async def test_an_admin_creates_a_group_and_a_person_who_can_sign_in(live: Live) -> None:
    admin = await live.new_user(Role.ADMIN)
    group = f"g-{uuid.uuid4().hex[:8]}"
    person = f"p-{uuid.uuid4().hex[:8]}"
    async with live.signed_in(admin) as client:
        made = await client.post(
            "/api/admin/groups", json={"name": group, "default_classification": 2}
        )
        assert made.status_code == 201 and made.json()["default_classification"] == 2
        policy = await client.put(
            f"/api/admin/groups/{group}/policy",
            json={"default_classification": 3, "max_reasoning_effort": "low"},
        )
        assert policy.status_code == 204
        [listed] = [
            g
            for g in (await client.get("/api/admin/groups")).json()["groups"]
            if g["name"] == group
        ]
        assert listed["default_classification"] == 3 and listed["max_reasoning_effort"] == "low"
        assert listed["reasoning_display"] is None
        acts = [r.action for r in await live.audit_rows() if r.subject == group]
        assert sorted(acts) == ["group.create", "group.policy"]
        # An unknown group refuses the whole creation: no account is left half-made, without
        # its audit record and with a password nobody was shown.
        half = await client.post(
            "/api/admin/users",
            json={"username": person, "roles": ["admin"], "groups": [group, "no-such-group"]},
        )
        assert half.status_code == 404
        users = (await client.get("/api/admin/users")).json()["users"]
        assert person not in {u["username"] for u in users}
        created = await client.post(
            "/api/admin/users", json={"username": person, "roles": ["auditor"], "groups": [group]}
        )
        assert created.status_code == 201
        password = created.json()["password"]
        users = {u["username"]: u for u in (await client.get("/api/admin/users")).json()["users"]}
        assert users[person]["groups"] == [group]
        assert users[person]["roles"] == ["auditor", "user"]
        [act] = [r for r in await live.audit_rows() if r.subject == person]
        assert act.action == "user.create" and act.decisions is not None
        assert '"roles":"auditor,user"' in act.decisions and f'"groups":"{group}"' in act.decisions
        again = await client.post("/api/admin/users", json={"username": person})
        assert again.status_code == 400

    async with httpx_client(live) as fresh:
        signed = await fresh.post("/login", data={"username": person, "password": password})
        assert signed.status_code == 303

    async with live.signed_in(admin) as client:
        off = await client.put(f"/api/admin/users/{person}/disabled", json={"disabled": True})
        assert off.json()["disabled"] is True
        self_off = await client.put(f"/api/admin/users/{admin}/disabled", json={"disabled": True})
        assert self_off.status_code == 403
        assert self_off.json()["error"]["code"] == "self_lockout"


async def test_a_scoped_key_is_refused_other_models(live: Live) -> None:
    admin = await live.new_user(Role.ADMIN)
    owner = await live.new_user()
    async with live.signed_in(admin) as client:
        unknown = await client.post(
            "/api/admin/keys", json={"username": owner, "name": "x", "models": ["nope"]}
        )
        assert unknown.status_code == 400
        made = await client.post(
            "/api/admin/keys",
            json={"username": owner, "name": "連携", "models": [MODEL], "expires_on": "2099-12-31"},
        )
        assert made.status_code == 201
        key = made.json()["key"]
        assert made.json()["expires_at"].startswith("2100-01-01")
        listed = (await client.get("/api/admin/keys")).json()["keys"]
        mine = [k for k in listed if k["username"] == owner]
        assert mine[0]["models"] == [MODEL] and "key" not in mine[0]

    headers = {"authorization": f"Bearer {key}"}
    async with httpx_client(live) as api:
        models = (await api.get("/v1/models", headers=headers)).json()["data"]
        assert [m["id"] for m in models] == [MODEL]
        refused = await api.post(
            "/v1/chat/completions",
            headers=headers,
            json={"model": OLLAMA_MODEL, "messages": [{"role": "user", "content": "hi"}]},
        )
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "model_not_in_key_scope"
        allowed = await api.post(
            "/v1/chat/completions",
            headers=headers,
            json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
        )
        assert allowed.status_code == 200


async def test_an_endpoint_is_added_tested_and_removed(live: Live) -> None:
    admin = await live.new_user(Role.ADMIN)
    name = f"ep-{uuid.uuid4().hex[:6]}"
    model = f"m-{uuid.uuid4().hex[:6]}"
    async with live.signed_in(admin) as client:
        fixed = await client.post(
            "/api/admin/endpoints",
            json={
                "name": "gpu1",
                "url": live.upstream.base_url,
                "residency": "onprem",
                "models": [MODEL],
            },
        )
        assert fixed.status_code == 409  # from mamori.toml: not changed here
        added = await client.post(
            "/api/admin/endpoints",
            json={
                "name": name,
                "url": live.upstream.base_url,
                "dialect": "vllm",
                "residency": "domestic_cloud",
                "models": [f"{model}={MODEL}"],
                "max_classification": 2,
                "trains_on_inputs": False,
                "terms_of_service": False,
            },
        )
        assert added.status_code == 201, added.text
        body = added.json()
        assert body["editable"] and body["max_classification"] == 2 and body["assessed"]
        assert body["health"]["reachable"] is True and body["health"]["latency_ms"] is not None
        # In use at once: the model is offered in the workspace.
        names = [m["name"] for m in (await client.get("/api/models")).json()["models"]]
        assert model in names

        tested = await client.post(f"/api/admin/endpoints/{name}/test")
        assert tested.json()["reachable"] is True
        assert tested.json()["chat"]["ok"] is True
        assert tested.json()["chat"]["text"] == "Hello, world"

        removed = await client.delete(f"/api/admin/endpoints/{name}")
        assert removed.status_code == 204
        listed = (await client.get("/api/admin/endpoints")).json()["endpoints"]
        assert name not in {e["name"] for e in listed}
    actions = [r.action for r in await live.audit_rows() if r.subject == name]
    assert sorted(actions) == ["endpoint.remove", "endpoint.save"]


async def test_the_console_names_only_variables_set_aside_for_engine_keys(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The named variable's value goes to the endpoint's URL as its bearer key: the console
    # must not be a way to send the server's own secrets to a host an admin chooses.
    monkeypatch.setenv("MAMORI_TEST_SECRET", "s3cret-database-password")
    monkeypatch.setenv("MAMORI_ENGINE_KEY_TEST", "engine-key-1")
    admin = await live.new_user(Role.ADMIN)
    name = f"ep-{uuid.uuid4().hex[:6]}"
    endpoint = {
        "name": name,
        "url": live.upstream.base_url,
        "residency": "onprem",
        "models": [f"m-{uuid.uuid4().hex[:6]}={MODEL}"],
    }
    async with live.signed_in(admin) as client:
        for variable in ("MAMORI_TEST_SECRET", "MAMORI_ENGINE_KEY_"):
            sent_before = len(live.upstream.requests)
            refused = await client.post(
                "/api/admin/endpoints", json={**endpoint, "api_key_env": variable}
            )
            assert refused.status_code == 400, refused.text
            error = refused.json()["error"]
            assert error["code"] == "engine_key_variable_not_allowed"
            assert "MAMORI_ENGINE_KEY_" in error["message"]
            assert len(live.upstream.requests) == sent_before  # nothing was sent anywhere
        listed = (await client.get("/api/admin/endpoints")).json()["endpoints"]
        assert name not in {e["name"] for e in listed}

        added = await client.post(
            "/api/admin/endpoints", json={**endpoint, "api_key_env": "MAMORI_ENGINE_KEY_TEST"}
        )
        assert added.status_code == 201, added.text
        probe = live.upstream.requests[-1]
        assert probe.headers["authorization"] == "Bearer engine-key-1"
        assert all(
            "s3cret" not in r.headers.get("authorization", "") for r in live.upstream.requests
        )
        assert (await client.delete(f"/api/admin/endpoints/{name}")).status_code == 204
    [saved] = [
        r for r in await live.audit_rows() if r.subject == name and r.action == "endpoint.save"
    ]
    assert (
        saved.decisions is not None and '"api_key_env":"MAMORI_ENGINE_KEY_TEST"' in saved.decisions
    )
    assert "engine-key-1" not in saved.decisions


def httpx_client(live: Live) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=live.base_url, timeout=10)
