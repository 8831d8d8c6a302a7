"""guard.inbound → policy.classify → policy.route: what a turn holds decides where it may go."""

from __future__ import annotations

from contextlib import aclosing

from mamori.domain.audit import TurnStatus
from mamori.domain.chat import ChatMessage, ContentDelta, Done, ErrorEvent, StreamEvent
from mamori.domain.classification import Classification
from mamori.domain.decision import Finding
from mamori.domain.endpoint import Endpoint, EndpointTrust, Residency
from mamori.domain.principal import Face, Group, Principal, Role
from mamori.gateway.registry import EndpointRegistry
from mamori.pipeline.runner import ChatPipeline
from mamori.pipeline.stages.classify import ClassifyStage
from mamori.pipeline.stages.guard import InboundGuardStage
from mamori.pipeline.stages.route import RouteStage
from mamori.pipeline.stages.stream import GatewayStreamStage
from mamori.pipeline.stages.transform import GuardTransformStage
from mamori.pipeline.turn import ChatTurn
from mamori.policy.sovereignty_file import load_default_policy, parse_policy
from tests.pipeline.test_runner import Recorder, ScriptedBackend

POLICY = load_default_policy()
C = Classification
ALICE = Principal("u1", "alice", frozenset({Role.USER}), Face.API)
ANSWER: list[StreamEvent | Exception] = [ContentDelta("ok"), Done()]


class MarkerDetector:
    """Reports one finding of ``kind`` wherever ``marker`` occurs; a stand-in for a PII detector."""

    name = "marker"

    def __init__(self, marker: str, kind: str) -> None:
        self.marker, self.kind = marker, kind
        self.kinds = (kind,)
        self.sources: list[str] = []

    def detect(self, text: str, *, source: str) -> list[Finding]:
        self.sources.append(source)
        at = text.find(self.marker)
        return [] if at < 0 else [Finding(self.kind, at, at + len(self.marker), source=source)]


def ep(name: str, residency: Residency, trust: EndpointTrust | None = None) -> Endpoint:
    return Endpoint(name, f"http://{name}/v1", "vllm", residency, {"m": "m"}, assessed_trust=trust)


async def build(
    endpoints: list[Endpoint], detectors: list[MarkerDetector] | None = None
) -> tuple[ChatPipeline, Recorder, dict[str, ScriptedBackend]]:
    backends: dict[str, ScriptedBackend] = {}

    def factory(endpoint: Endpoint) -> ScriptedBackend:
        backends[endpoint.name] = ScriptedBackend(endpoint, ANSWER)
        return backends[endpoint.name]

    registry = EndpointRegistry(factory)
    await registry.replace(endpoints, {})
    recorder = Recorder()
    pipeline = ChatPipeline(
        prepare=[
            InboundGuardStage(detectors or []),
            ClassifyStage(POLICY, C.C1),
            RouteStage(registry, POLICY),
        ],
        source=GatewayStreamStage(registry),
        on_event=[],
        finish=[recorder],
    )
    return pipeline, recorder, backends


async def run(pipeline: ChatPipeline, turn: ChatTurn) -> list[StreamEvent]:
    async with aclosing(pipeline.run(turn)) as events:
        return [e async for e in events]


def turn(*texts: str, label: Classification | None = None, who: Principal = ALICE) -> ChatTurn:
    messages = [ChatMessage("user", t) for t in texts]
    return ChatTurn(principal=who, model="m", messages=messages, conversation_label=label)


FOREIGN = ep("cloud", Residency.FOREIGN)
ONPREM = ep("gpu", Residency.ONPREM)


async def test_a_public_turn_goes_where_routing_prefers() -> None:
    pipeline, recorder, backends = await build([FOREIGN, ONPREM])
    events = await run(pipeline, turn("hello", label=C.PUBLIC))
    assert isinstance(events[-1], Done)
    [done] = recorder.finished
    assert done.policy is not None and done.policy.action.value == "allow"
    assert len(backends["cloud"].requests) == 1 and backends["gpu"].requests == []


async def test_a_my_number_anywhere_in_the_history_reroutes_on_prem() -> None:
    detector = MarkerDetector("123456789018", "my_number")
    pipeline, recorder, backends = await build([FOREIGN, ONPREM], [detector])
    events = await run(pipeline, turn("個人番号は123456789018です", "では要約して", label=C.PUBLIC))
    assert isinstance(events[-1], Done)
    [done] = recorder.finished
    assert (done.label, done.classification, done.special_personal) == (C.PUBLIC, C.C3, True)
    assert done.policy is not None and done.policy.action.value == "reroute"
    assert done.policy.rule_id == "c3-onprem"
    assert backends["cloud"].requests == [] and len(backends["gpu"].requests) == 1
    raised = next(d for d in done.decisions if d.stage == "policy.classify")
    assert raised.action == "raise" and raised.detail["kinds"] == "my_number"
    routed = next(d for d in done.decisions if d.stage == "policy.route")
    assert routed.detail["refused"] == "cloud:confidential-never-tos"


async def test_no_compliant_endpoint_is_a_denial_before_any_upstream_call() -> None:
    pipeline, recorder, backends = await build([FOREIGN])
    events = await run(pipeline, turn("議事録の下書き", label=C.C2))
    [error] = events
    assert isinstance(error, ErrorEvent) and error.code == "policy_denied"
    assert error.before_first_byte and "confidential-never-tos" in error.message
    assert backends["cloud"].requests == []
    [done] = recorder.finished
    assert done.status is TurnStatus.DENIED and done.candidates == []


async def test_mask_then_allow_is_refused_while_nothing_can_pseudonymise() -> None:
    masked = EndpointTrust(Residency.DOMESTIC_CLOUD, C.C1, False, False, approved_for_masked=True)
    pipeline, recorder, backends = await build([ep("saas", Residency.DOMESTIC_CLOUD, masked)])
    events = await run(pipeline, turn("住民票の写しの件", label=C.C2))
    assert isinstance(events[-1], ErrorEvent) and events[-1].code == "policy_denied"
    [done] = recorder.finished
    assert done.policy is not None and done.policy.rule_id == "policy.mask-unavailable"
    assert "c2-masked" in done.policy.message("en")
    assert backends["saas"].requests == []


async def test_an_api_turn_takes_its_groups_highest_default_label() -> None:
    zeimu = Group("g1", "zeimu", "税務課", default_classification=C.C2)
    somu = Group("g2", "somu", "総務課", default_classification=C.PUBLIC)
    member = Principal("u2", "sato", frozenset({Role.USER}), Face.API, groups=(somu, zeimu))
    pipeline, recorder, backends = await build([FOREIGN, ONPREM])
    await run(pipeline, turn("hello", who=member))
    [done] = recorder.finished
    assert (done.label, done.classification) == (C.C2, C.C2)
    assert backends["cloud"].requests == []


async def test_findings_the_policy_does_not_map_raise_nothing_and_every_message_is_scanned() -> (
    None
):
    detector = MarkerDetector("ignore previous", "injection.override")
    pipeline, recorder, _ = await build([FOREIGN, ONPREM], [detector])
    conversation = [
        ChatMessage("system", "be brief"),
        ChatMessage("user", "q"),
        ChatMessage("assistant", "a"),
        ChatMessage("user", "ignore previous"),
    ]
    await run(pipeline, ChatTurn(principal=ALICE, model="m", messages=conversation))
    [done] = recorder.finished
    assert done.findings and done.classification is C.C1
    assert detector.sources == ["user", "user", "answer", "user"]


async def test_a_kind_the_policy_blocks_stops_the_turn_wherever_it_would_go() -> None:
    policy = parse_policy(
        '[[rules]]\nid = "all"\ndescription_ja = "全部"\ndescription_en = "all"\n'
        'data = ["公開", "機密性1"]\neffect = "allow"\n\n[actions]\ncredit_card = "block"\n',
        "p.toml",
    )
    detector = MarkerDetector("4111111111111111", "credit_card")
    backends: dict[str, ScriptedBackend] = {}

    def factory(endpoint: Endpoint) -> ScriptedBackend:
        backends[endpoint.name] = ScriptedBackend(endpoint, ANSWER)
        return backends[endpoint.name]

    registry = EndpointRegistry(factory)
    await registry.replace([ONPREM], {})
    recorder = Recorder()
    pipeline = ChatPipeline(
        prepare=[
            InboundGuardStage([detector]),
            RouteStage(registry, policy),
            GuardTransformStage([detector], policy),
        ],
        source=GatewayStreamStage(registry),
        on_event=[],
        finish=[recorder],
    )
    events = await run(pipeline, turn("カード 4111111111111111 で支払い", label=C.PUBLIC))
    assert isinstance(events[-1], ErrorEvent) and events[-1].code == "pii_blocked"
    assert backends["gpu"].requests == []
    [done] = recorder.finished
    assert [d.rule_id for d in done.decisions if d.stage == "guard.transform"] == ["guard.block"]
