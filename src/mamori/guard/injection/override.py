"""Instruction override: 「これまでの指示を無視して」, "ignore all previous instructions".

The family is *verb of setting aside* + *object naming instructions*. Who owns the instructions
decides whether it is an attack when the user says it:

- the system's or the developer's (「システムプロンプト」, "your rules", 「初期設定」): always;
- a sweep over everything before (「以前の」「これまでの」「上記の」, "previous", "above"),
  backed by a second cue (「すべて」, new orders, an announced cancellation, the user spoken of
  in the third person): an attack, as the user's own change of mind needs none of these;
- the user's own last turn (「さっきの」「先ほどの」「私の」, "my earlier request"): benign.

Inside a document or a tool result any such sentence is an attack: a retrieved page has no
instructions of its own to cancel. The same module catches the other ways of slipping orders to
the model: chat-template role markers, sentences addressed to the AI, and BIPIA-style orders
about "your answer" planted in a document.
"""

from __future__ import annotations

from collections.abc import Iterator

from mamori.guard.injection._base import (
    ADDRESSEE,
    DECLARED,
    IMPERATIVE,
    NEW_ORDERS,
    THIRD_PERSON_MODEL,
    THIRD_PERSON_USER,
    UNIVERSAL,
    Hit,
    around,
    clamp,
    is_user,
    rx,
    sentence,
)
from mamori.guard.injection._text import View

KIND = "injection.override"

# Nouns for what a model runs under; 「設定」「条件」 only with a determiner (checked below).
_JA_OBJECT = (
    r"(?:システムプロンプト|プロンプト|指示|命令|指令|指図|ルール|規則|方針|ガイドライン|"
    r"ポリシー|インストラクション|前提|設定|制約|役割|条件)"
)
# What the user may cancel of their own: weaker objects.
_JA_SOFT_OBJECT = r"(?:質問|依頼|お願い|リクエスト|会話|やり取り)"
_JA_SET_ASIDE = (
    r"(?:無視|忘れ|破棄|取り?消|撤回|無効|解除|上書き|リセット|放棄|捨て|白紙|消去|反故|"
    r"従わな|従う必要は|従わず|守らな|守る必要は|気にしな|考慮しな|適用しな|優先しな|"
    r"なかったことに)"
)
_JA = rx(
    rf"(?P<obj>{_JA_OBJECT}|{_JA_SOFT_OBJECT})(?:[^。．！？!?\n]{{0,14}}?)(?P<verb>{_JA_SET_ASIDE})"
)
_EN_OBJECT = (
    r"(?:instructions?|prompts?|rules|directions|directives?|guidelines|commands|orders|"
    r"programming|constraints|policies|guidance|context|requests?|messages?|questions?|"
    r"everything|anything|above|what (?:i|we|you) (?:said|wrote|asked|were told))"
)
_EN = rx(
    r"\b(?P<verb>ignore|disregard|forget(?: about)?|override|overwrite|bypass|discard|abandon|"
    r"drop|skip|set aside|throw out|cancel|nullify|neglect|pay no attention to|"
    r"(?:stop|quit) (?:following|obeying)|do(?: not|n't) (?:follow|obey)|no longer follow)"
    rf"(?P<mods>(?: [a-z'\-]+){{0,5}}?) (?P<obj>{_EN_OBJECT})\b"
)
# Passive announcements: "previous instructions are void".
_EN_DECLARED = rx(
    r"\b(?:previous|prior|above|earlier|all|your|system|original|old) "
    r"(?:instructions?|rules|prompts?|guidelines)"
    r" (?:are|is|have been|has been|were) (?:now )?(?:void|cancel+ed|revoked|obsolete|"
    r"overridden|superseded|null|invalid|disabled|lifted|suspended|no longer)"
)

# Whose instructions (the words just before the object, or between verb and object).
_SYSTEM_OWNER = rx(
    r"システム|開発者|運営|管理者|初期|当初|最初に|事前に|元々|本来|あなた(?:に|へ|が|の)|"
    r"aiの|モデルの|アシスタントの|安全|"
    r"\b(?:system|developer|developers|your|original|initial|default|hidden|built-in|safety|"
    r"openai|core|base)\b"
)
_SELF_OWNER = rx(
    r"さっき|先ほど|先程|さきほど|(?<![以直])前の|直前|私|わたし|自分|僕|俺|今の|この|その|"
    r"\b(?:my|i|we|our|last|that|this)\b"
)
_SWEEP = rx(
    r"以前|これまで|今まで|従来|既存|上記|上の|前述|過去|全て|すべて|あらゆる|いかなる|一切|"
    r"\b(?:previous|prior|above|earlier|preceding|former|foregoing|existing|all|any|every|"
    r"old)\b"
)
_SYSTEM_OBJECTS = {"システムプロンプト", "ガイドライン", "ポリシー", "programming"}
_SOFT_OBJECTS = {
    "質問",
    "依頼",
    "お願い",
    "リクエスト",
    "会話",
    "やり取り",
    "request",
    "requests",
    "message",
    "messages",
    "question",
    "questions",
    "everything",
    "anything",
}
# Only with a determiner is 「設定」 an instruction ("the settings" of an app otherwise).
_NEEDS_OWNER = {
    "above",
    "設定",
    "条件",
    "役割",
    "context",
    "prompt",
    "prompts",
    "commands",
    "orders",
}
# Words an ordinary document uses of its own affairs (「方針は撤回され」, "ignore the rules of
# grammar"): in a document they need the model as owner or a second cue.
_BUSINESS_OBJECTS = {
    "ルール",
    "規則",
    "方針",
    "ガイドライン",
    "ポリシー",
    "前提",
    "制約",
    "rules",
    "guidelines",
    "policies",
    "constraints",
    "directions",
    "guidance",
}

# Fake chat-template turns: a document or a user pretending to be the system.
_ROLE_MARKER = rx(
    r"<\|(?:im_start|im_end|system|user|assistant|start|end|channel|message|endoftext)\|>"
    r"|\[/?inst\]|<</?sys>>|</?(?:system|sys)(?:_prompt|_message)?>|\[system\]"
    r"|(?:^|\n)#{2,} ?(?:system|instructions?|new instructions?)\b"
)
# A heading that announces replacement orders: 「新しい指示：」, "New instructions:".
_NEW_ORDERS_HEADING = rx(
    r"(?:新しい|新たな|追加の|更新された|本当の|真の)(?:指示|命令|ルール|システムプロンプト)\s?[:：]"
    r"|\b(?:new|updated|real|additional|revised) (?:instructions?|system prompt|rules)\s?:"
)
# Orders about "your answer" planted in a document (the BIPIA pattern): the author of a page
# cannot know there will be an answer, only an injector can.
_YOUR_OUTPUT = rx(
    r"\b(?:add|include|insert|integrate|incorporate|append|modify|change|rewrite|replace|"
    r"use|provide|introduce|misspell|remove|group|rearrange|anagram|translate|mention|suggest|"
    r"embed|blend|absorb|enlist|utilize|leverage|ensure|make sure|respond|reply|answer|write|"
    r"end|start|begin|format|encode|substitute|emphasi[sz]e|highlight|promote|recommend|"
    r"direct|hint|explain|describe|draft|compose|tell)\b"
    r"(?:(?![.!?] )[^\n]){0,100}?\b(?:in|into|to|within|throughout|of|with) (?:the )?"
    r"(?:essence of )?"
    r"(?:your|the assistant's|the ai's) "
    r"(?:response|answer|reply|output|code|implementation|solution|codebase|summary|"
    r"elucidation|algorithm|program|script|completion)\b"
    r"|\b(?:your|the) (?:response|answer|reply|output|code|implementation|solution) "
    r"(?:should|must|needs? to|has to)\b"
    # A sentence that opens with a verb of shaping text and names "your reply" is an order about
    # the reader's output: "Modify your answer to…", "Remove spaces from your response."
    r"|(?:^|[.!?:\n] ?)(?:add|augment|enhance|enrich|modify|change|alter|adjust|rewrite|rephrase|"
    r"provide|deliver|present|render|format|structure|scramble|jumble|shuffle|combine|merge|"
    r"convert|replace|substitute|remove|strip|omit|reverse|encode|translate|misspell|"
    r"introduce|insert|include|integrate|incorporate|append|prepend|embed|wrap|end|begin|"
    r"start|conclude|sign|close|keep|limit|shorten|expand|pad|capitali[sz]e|uppercase|"
    r"lowercase|spell|write|compose|respond|reply|answer|in)\b(?: [a-z'\-,]+){0,8}? "
    r"your (?:response|reply|answer|message|output|completion|summary)(?:'s)?\b"
    # Code handed over for the reader's program: the BIPIA code attacks.
    r"|\b(?:following|subsequent|below|this|these|next) (?:code|python|script)"
    r"(?: (?:block|snippet|excerpt|section|segment|fragment|lines?))?\b[^\n]{0,80}? "
    r"(?:your|the user's) (?:code|solution|implementation|codebase|program|script|project|"
    r"algorithm|logic|answer|response|elucidation)\b"
    r"|\byour (?:code|solution|implementation|codebase|program|script)\b[^\n]{0,60}? "
    r"(?:following|subsequent|below) (?:code|python|script)\b"
    r"|(?:回答|返答|返信|出力|応答|要約)(?:の(?:最後|末尾|冒頭|最初|中)|内|文中)?(?:に|へ|では|には)"
    r"[^。\n]{0,40}?(?:追加|含め|記載|挿入|添え|付け|入れ|書き加え|記述|表示|誘導)"
)


# The set-aside verb is itself an order (「無視して、」「忘れてください」, "Ignore …"): news
# reporting that staff 「命令に従わない」 is not.
_JA_ORDERED = rx(
    r"[^。\n]{0,6}?(?:てください|て下さい|なさい|せよ|しろ|ること|るように|て[、,。]|てね|ずに|"
    r"ましょう|てほしい|ること)"
)
_EN_ORDERED = rx(r"(?:^|[.!?:;\n] ?)(?:please |now |first,? |and )?$")


def _owner_score(owner: str, obj: str, user: bool) -> float:
    """Base score from whose instructions are set aside."""
    if not user:
        if _SYSTEM_OWNER.search(owner):
            return 0.8
        if obj in _SOFT_OBJECTS:
            return 0.3
        if obj in _NEEDS_OWNER and not _SWEEP.search(owner):
            return 0.3
        if obj in _BUSINESS_OBJECTS:
            return 0.35
        return 0.55 if _SWEEP.search(owner) else 0.45
    if _SYSTEM_OWNER.search(owner) or obj in _SYSTEM_OBJECTS:
        return 0.85
    if _SELF_OWNER.search(owner):
        return 0.1
    if obj in _SOFT_OBJECTS or obj in _NEEDS_OWNER:
        return 0.1
    if _SWEEP.search(owner):
        return 0.5
    return 0.3


def _cue_bonus(view: View, start: int, end: int, verb_end: int) -> float:
    near = around(view.text, start, end)
    bonus = 0.0
    if UNIVERSAL.search(near):
        bonus += 0.25
    if NEW_ORDERS.search(near):
        bonus += 0.3
    if DECLARED.match(view.text, verb_end) or DECLARED.search(view.text, verb_end, verb_end + 6):
        bonus += 0.25
    if THIRD_PERSON_USER.search(near):
        bonus += 0.15
    return bonus


def _set_aside(view: View, source: str) -> Iterator[Hit]:
    user = is_user(source)
    text = view.text
    for found in _JA.finditer(text):
        obj_start = found.start("obj")
        owner = text[max(0, obj_start - 14) : obj_start]
        owner = owner[owner.rfind("。") + 1 :]
        score = _owner_score(owner, found.group("obj"), user)
        bonus = _cue_bonus(view, found.start(), found.end(), found.end("verb"))
        if not user and _JA_ORDERED.match(text, found.end("verb")):
            bonus += 0.25
        yield Hit(KIND, found.start(), found.end(), clamp(score + bonus))
    for found in _EN.finditer(text):
        owner = found.group("mods")
        obj = found.group("obj")
        # "what I said" is a request by its speaker, like "my request".
        score = _owner_score(owner, "request" if obj.startswith("what ") else obj, user)
        bonus = _cue_bonus(view, found.start(), found.end(), found.end())
        if not user and _EN_ORDERED.search(text, max(0, found.start() - 12), found.start()):
            bonus += 0.25
        yield Hit(KIND, found.start(), found.end(), clamp(score + bonus))
    for found in _EN_DECLARED.finditer(text):
        score = 0.75 if user else 0.85
        yield Hit(KIND, found.start(), found.end(), clamp(score))


def _addressed(view: View, source: str) -> Iterator[Hit]:
    user = is_user(source)
    text = view.text
    for found in _ROLE_MARKER.finditer(text):
        yield Hit(KIND, found.start(), found.end(), 0.9)
    if user:
        # The user addresses the assistant all the time; only the markers above count.
        return
    for found in ADDRESSEE.finditer(text):
        right = sentence(text, found.start(), found.end())[1]
        rest = text[found.end() : right + 80]
        score = 0.75 if IMPERATIVE.search(rest) else 0.45
        yield Hit(KIND, found.start(), max(found.end(), right), score)
    for found in THIRD_PERSON_MODEL.finditer(text):
        right = sentence(text, found.start(), found.end())[1]
        if IMPERATIVE.search(text, found.end(), right + 1):
            yield Hit(KIND, found.start(), right, 0.6)
    for found in _NEW_ORDERS_HEADING.finditer(text):
        yield Hit(KIND, found.start(), found.end(), 0.7)
    for found in _YOUR_OUTPUT.finditer(text):
        yield Hit(KIND, found.start(), found.end(), 0.65)


def scan(view: View, source: str) -> Iterator[Hit]:
    yield from _set_aside(view, source)
    yield from _addressed(view, source)
