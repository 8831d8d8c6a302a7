"""Jailbreak role-play: DAN, 「制限のないAIとして」, "developer mode enabled", safety switched off.

Three families:

- *named personas and modes* that exist only to escape rules: DAN / "do anything now",
  "jailbreak"/「脱獄」, "developer mode" announced as switched on;
- *a model without limits*: 「制限のないAI」, "an AI with no restrictions", "unfiltered";
- *safety switched off*: verbs of removing (解除, 無効, off, disable) on safety nouns
  (安全上の制約, フィルタ, セーフガード, guardrails, content policy).

A user may mention these in a question (「制限のないAIは危険ですか」, "how do I enable developer
mode on Android"). What makes it an attack is that it is *asserted* of the assistant: a role
assignment (「あなたは」「として」, "you are", "act as") or a declaration that it has happened.
"""

from __future__ import annotations

from collections.abc import Iterator

from mamori.guard.injection._base import Hit, around, clamp, is_user, rx
from mamori.guard.injection._text import View

KIND = "injection.jailbreak"

_PERSONA = rx(
    r"\bdo anything now\b|\bdan (?:mode|prompt)\b|\b(?:jailbreak|jailbroken|jail-broken)\b|"
    r"脱獄|ジェイルブレイク|\bgod ?mode\b|\b(?:evil|unrestricted|unfiltered|uncensored|"
    r"unaligned|unchained) (?:mode|ai|assistant|model|version|persona|chatbot)\b|"
    r"\bstan\b mode|\baim\b \(always intelligent"
)
_DAN = rx(r"(?<![a-z0-9])dan(?![a-z0-9])")
_DEV_MODE = rx(
    r"開発者モード|デベロッパーモード|管理者モード|デバッグモード|"
    r"\b(?:developer|debug|admin|sudo) mode\b"
)
_SWITCHED_ON = rx(
    r"(?:有効|オン|起動|解放|移行|切り替え|入り|突入)(?:化)?(?:しました|された|されました|中|です|に(?:なりました|なった))"
    r"|\b(?:enabled|activated|on|unlocked|engaged)\b"
)
_LIMITLESS = rx(
    r"(?:制限|制約|規制|フィルター?|検閲|ルール|倫理(?:観)?|規則|縛り|制御)"
    r"(?:の|が|を|に|から|も)?(?:一切)?(?:ない|無い|なし|無し|持たない|解放された|縛られない|"
    r"受けない|とらわれない|囚われない|関係ない|無関係な)"
    r"[^。\n]{0,6}?(?:ai|人工知能|アシスタント|モデル|チャットボット|ボット|存在|モード|"
    r"キャラクター|人格|バージョン|状態)"
    r"|\b(?:no |without (?:any )?|free (?:of|from) (?:all |any )?)(?:restrictions|limits|"
    r"limitations|filters|censorship|rules|guidelines|ethics|morals|guardrails|boundaries)\b"
    r"|\b(?:not|no longer) (?:bound|restricted|limited|constrained) by\b"
    # "Answers anything" is the same promise: 「何でも答えるAI」, "can answer anything".
    r"|(?:何でも|なんでも|どんな(?:質問|こと|内容)(?:に|で)?も)(?:答え|回答|応じ|話せ|話す|出力)"
    r"|\b(?:answers?|respond to|do) anything\b(?! else)"
)
_SAFETY_OBJECT = (
    r"(?:安全(?:上の|性の|)?(?:制約|制限|対策|機能|装置|基準|ガード|フィルタ|設定)?|セーフガード|"
    r"セーフティ|ガードレール|フィルタ(?:ー|リング)?|検閲|倫理(?:的な)?(?:制約|規範|基準|"
    r"ガイドライン)?|(?:出力|回答|応答|ai|あなた)の(?:制限|制約)|コンテンツポリシー|安全装置)"
)
_SAFETY_OFF_JA = rx(
    rf"{_SAFETY_OBJECT}(?:は|が|を|も)?(?:すべて|全て|一切)?(?:[^。\n]{{0,8}}?)"
    r"(?:解除|無効|オフ|外し|外れ|取り払|撤廃|停止|無視|忘れ|気にせず|気にしない|関係なく|"
    r"従わず|守らず|回避|すり抜け|突破)"
)
_SAFETY_OFF_EN = rx(
    r"\b(?:disable|disabled|remove|removed|turn off|turned off|switch off|bypass|bypassed|"
    r"ignore|lift|lifted|deactivate|deactivated|override|circumvent|jailbreak|unlock)"
    r"(?: [a-z'\-]+){0,3}? (?:safety|safeguards?|guardrails|filters?|filtering|content "
    r"(?:policy|filters?)|censorship|ethical (?:guidelines|constraints)|restrictions|"
    r"moderation)\b"
)
# Asserting it of the assistant (not asking about it).
_SAFETY_OFF_EN_PASSIVE = rx(
    r"\b(?:safety|safeguards?|guardrails|filters?|filtering|content (?:policy|filters?)|"
    r"censorship|restrictions|moderation)(?: [a-z]+)? (?:are|is|have been|has been|were) "
    r"(?:now |all |completely )?(?:disabled|off|removed|lifted|deactivated|turned off|bypassed|"
    r"suspended|gone)\b"
)
_ENTERED = rx(
    r"(?:you are|you're|you have entered|entering|enter|switch(?:ed)? to|activate|enable|"
    r"welcome to|now in) (?:now )?(?:in )?(?:the )?$"
)
_ASSIGNED = rx(
    r"あなたは|あなたが|君は|お前は|今日から|として|になりきって|になりきり|を演じ|演じて|のふり|ロールプレイ|"
    r"今から|これから|シミュレート|なってください|になって|モードで|"
    r"\b(?:you are|you're|act as|pretend|role-?play|from now on|simulate|become|you will be|"
    r"stay in character|answer as|respond as)\b"
)
_ANSWER_ANYWAY = rx(
    r"(?:回答|答え|応答|出力|説明)(?:して|せよ|しなさい|すること|ください)|"
    r"\b(?:answer|respond|reply|tell me|output|explain)\b"
)


def scan(view: View, source: str) -> Iterator[Hit]:
    user = is_user(source)
    text = view.text
    for found in _PERSONA.finditer(text):
        yield Hit(KIND, found.start(), found.end(), 0.9)
    for found in _DAN.finditer(text):
        start, end = view.span(found.start(), found.end())
        # Only the upper-case persona; "Dan" is a name.
        if view.original[start:end] in ("DAN", "ＤＡＮ"):
            near = around(text, found.start(), found.end(), 40, 40)
            score = 0.9 if _ASSIGNED.search(near) else 0.6
            yield Hit(KIND, found.start(), found.end(), score)
    for found in _DEV_MODE.finditer(text):
        near = text[found.end() : found.end() + 20]
        on = (
            _SWITCHED_ON.search(near) is not None
            or _ENTERED.search(text, max(0, found.start() - 30), found.start()) is not None
        )
        score = (0.75 if on else 0.15) if user else (0.8 if on else 0.35)
        yield Hit(KIND, found.start(), found.end(), score)
    for found in _LIMITLESS.finditer(text):
        near = around(text, found.start(), found.end(), 30, 40)
        assigned = _ASSIGNED.search(near) is not None
        score = (0.85 if assigned else 0.3) if user else (0.85 if assigned else 0.45)
        yield Hit(KIND, found.start(), found.end(), score)
    for pattern in (_SAFETY_OFF_JA, _SAFETY_OFF_EN, _SAFETY_OFF_EN_PASSIVE):
        for found in pattern.finditer(text):
            near = around(text, found.start(), found.end(), 40, 60)
            asserted = _ASSIGNED.search(near) or _ANSWER_ANYWAY.search(near)
            score = (0.8 if asserted else 0.35) if user else (0.85 if asserted else 0.45)
            yield Hit(KIND, found.start(), found.end(), clamp(score))
