"""What the kind modules share: hits, sources, sentence windows and cue vocabulary.

Every pattern family is written against the view of ``_text.prepare`` (NFKC, ASCII lower case,
no spacing tricks), so a vocabulary item is written once, in lower case, and Japanese items
need no optional spaces between characters.

Scoring is explicit about who is speaking. The *user* is the principal: "ignore my earlier
request" is them changing their mind, and they may ask about prompts, tools and filters. Text
from a *document*, a *tool result* or a model *answer* has no authority to instruct the model at
all, so any instruction-shaped sentence in it that addresses the model is suspect. Each family
therefore computes one score for the user and another for everything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

USER = "user"


def rx(pattern: str) -> re.Pattern[str]:
    """Compile a family pattern. ASCII mode makes ``\\b`` a boundary between an English word
    and kana or kanji too (Python's Unicode ``\\b`` treats them as word characters)."""
    return re.compile(pattern, re.ASCII)


_SENTENCE_END = re.compile(r"[。．！？!?\n]|\.(?:\s|$)")


@dataclass(frozen=True, slots=True)
class Hit:
    """One piece of evidence, in view indices; ``score`` is already source-specific."""

    kind: str
    start: int
    end: int
    score: float


def is_user(source: str) -> bool:
    """Only the user speaks with authority; unknown sources are treated as untrusted."""
    return source == USER


def clamp(score: float) -> float:
    return max(0.0, min(0.99, score))


def sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the sentence around ``text[start:end]`` (cues must share it)."""
    left = 0
    for found in _SENTENCE_END.finditer(text, max(0, start - 200), start):
        left = found.end()
    found_right = _SENTENCE_END.search(text, end)
    right = found_right.start() if found_right else len(text)
    return left, right


def around(text: str, start: int, end: int, before: int = 60, after: int = 100) -> str:
    """A window around a match: neighbouring sentences count (「…無視して。次の命令に従え」)."""
    return text[max(0, start - before) : end + after]


# --- cue vocabulary -------------------------------------------------------------------------

# Addressing the model: "AIアシスタントへ：", "note to the assistant", "assistant:".
ADDRESSEE = rx(
    r"(?:ai|aiアシスタント|アシスタント|言語モデル|llm|チャットボット|生成ai|chatgpt|gpt)"
    r"(?:へ|に告ぐ|への(?:指示|注意|メッセージ|お願い))\s?[：:、,]?"
    r"|(?:note|message|instructions?|reminder) (?:to|for) (?:the |any )?"
    r"(?:ai|assistant|model|llm|chatbot|language model)"
    r"|(?:dear|attention|hey|hi) (?:ai|assistant|model|chatgpt|llm)\b"
    r"|(?:^|\n)\s?(?:ai|assistant|system)\s?:"
)
# Third person about the model, as a system prompt would speak: 「アシスタントは…すること」.
THIRD_PERSON_MODEL = rx(
    r"(?:ai|アシスタント|言語モデル|モデル|チャットボット|ボット)(?:は|が)"
    r"|the (?:assistant|ai|model|chatbot) (?:must|should|shall|will|is to)"
)
# Imperatives and obligations as instructions are written in Japanese and English.
IMPERATIVE = rx(
    r"(?:してください|して下さい|しなさい|せよ|しろ|すべし|するように|して$|せ[。、]"
    r"|ください|なさい|べきです"
    # A plain verb + こと closing the clause is the written imperative (「実行すること。」);
    # followed by a particle it is a noun phrase (「実行することができます」).
    r"|[るすうくぐぶむつ]こと(?![がはもをにのでや]))"
    r"|\b(?:you must|you should|you will|please|do not|don't|always|never|immediately|make sure)\b"
)
# "All", whatever the language: a sweep over every instruction rather than one request.
UNIVERSAL = rx(r"すべて|全て|全部|一切|あらゆる|いかなる|\b(?:all|any|every)\b")
# What the override is for: new orders follow ("then only say X", "from now on").
NEW_ORDERS = rx(
    r"(?:次の|以下の|新しい|新たな|本当の)(?:指示|命令|ルール|指令)"
    r"|これから(?:は|あなたは)|今後は|以降は|今からは"
    r"|とだけ(?:出力|回答|答え|返答|返信|言|表示)|のみ(?:で)?(?:出力|回答|返答|返信)"
    r"|\bfrom now on\b|\bnew instructions?\b"
    r"|\binstead,? (?:you|reply|respond|say|output|print|write|tell|answer)"
    r"|\bonly (?:reply|respond|answer|output|say|print|write)\b"
    r"|\b(?:reply|respond|answer|say|output) (?:only )?with\b"
    r"|\bfollow (?:these|the following|my|the new)\b"
)
# An authority announcing a change: 「指示は取り消されました」, "rules have been revoked".
DECLARED = rx(
    r"(?:され|になり|となり)(?:まし)?た|は無効です|は(?:もう)?適用されません|は終了しました"
    r"|\b(?:are|is|have been|has been|were) (?:now )?(?:void|cancel+ed|revoked|obsolete|"
    r"overridden|superseded|null|invalid|disabled|lifted|suspended|no longer)"
)
# The speaker talks about the user in the third person: a user would say 「私」.
THIRD_PERSON_USER = rx(r"(?:ユーザー|利用者|ユーザ)(?:の|に|から|へ|が)|\bthe user'?s?\b")
# Doing it behind the user's back.
COVERT = rx(
    r"確認(?:なし|せず|を求めず|を取らず|不要)|承認(?:なし|を得ず)|"
    r"(?:ユーザー|利用者)に(?:は)?(?:知らせ|通知し|伝え|確認し|言わ|見せ)(?:ず|ない)|"
    r"黙って|こっそり|密かに|ひそかに|秘密裏に|気づかれ(?:ない|ず)|"
    r"\bwithout (?:asking|confirm\w*|telling|notifying|informing|the user|user|approval)\b|"
    r"\b(?:silently|secretly|covertly)\b|\bdo(?: not|n't) (?:tell|inform|notify|ask|mention)\b"
)
