"""Tool hijack: text that makes the assistant call tools or run commands for someone else.

Families:

- *a call order*: a tool reference (``delete_all_files``, 「削除ツール」, "the send_email
  function") near a verb of calling (呼び出す, 実行, call, invoke, run). Destructive or outbound
  tools (delete, send, transfer, grant...) weigh more, and so does doing it behind the user's
  back (「確認なしで」, "without asking");
- *shell and code execution* of the destructive kind (``rm -rf``, ``dd if=``, ``curl | sh``,
  download-then-``exec``);
- *hidden instructions* (see ``hidden``): an HTML comment or invisible element that addresses
  the assistant. Nobody writes to a reader where the reader cannot see, only to a model.

A user asking the assistant to use its tools is the normal case; from the user only a
destructive call that is also covert, or phrased as the system would (「アシスタントは…
すること」), counts.
"""

from __future__ import annotations

from collections.abc import Iterator

from mamori.guard.injection._base import (
    COVERT,
    IMPERATIVE,
    THIRD_PERSON_MODEL,
    Hit,
    around,
    clamp,
    is_user,
    rx,
)
from mamori.guard.injection._text import View
from mamori.guard.injection.hidden import hidden_regions

KIND = "injection.tool_hijack"

_IDENT = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+"  # snake_case, as tools are named
_TOOL_NOUN = (
    r"(?:ツール|関数|コマンド|api|プラグイン|機能|"
    r"\b(?:tool|function|command|plugin|action|endpoint)\b)"
)
_TOOL_REF = rx(
    rf"(?P<ident>{_IDENT})(?:\(\))?\s?(?:{_TOOL_NOUN})?"
    rf"|(?:{_TOOL_NOUN})\s?[「『\"'(]?(?P<ident2>{_IDENT})"
    r"|(?P<jatool>(?:削除|消去|送信|送金|振込|転送|公開|権限変更|初期化|実行)(?:用の)?(?:ツール|関数|コマンド|api))"
)
_CALL = rx(
    r"呼び出|呼出|実行|起動|使用|使っ|利用|コール|発行|叩|走らせ"
    r"|\b(?:call|calls|calling|invoke|run|execute|trigger|use|launch|fire)\b"
)
_DESTRUCTIVE = rx(
    r"delete|remove|drop|erase|wipe|destroy|purge|truncate|send|mail|post|transfer|pay|wire|"
    r"grant|share|upload|export|forward|publish|permission|reset|shutdown|kill|format|exec|"
    r"shell|run_command|rm\b|削除|消去|送金|振込|振り込|送信|転送|公開|権限|初期化|停止|書き換え|"
    r"上書き|全件|すべてのファイル|全ファイル"
)
# English imperatives open the sentence: "Call the delete_user tool…".
_EN_ORDER = rx(
    r"(?:^|[.!?:;\n] ?)(?:please |now |immediately |first,? )?(?:call|invoke|run|execute|"
    r"trigger|use|launch)\b"
)
_SHELL = rx(
    r"\brm -rf\b|\bdd if=|\bmkfs\b|:\(\)\s?\{|curl[^|\n]{0,120}\|\s?(?:ba|z)?sh\b|"
    r"wget[^\n]{0,120}&&|\bchmod \+x\b|\bexec\(|\beval\(|os\.system\(|"
    r"subprocess\.(?:popen|call|run)|"
    r"systemctl (?:stop|disable)|\bdrop table\b|\btruncate table\b|format c:|\bnohup\b|"
    r"urlretrieve"
)
_HIDDEN_ADDRESSEE = rx(
    r"ai|アシスタント|言語モデル|モデル|llm|チャットボット|あなた|"
    r"\b(?:assistant|model|chatbot|gpt|you|your)\b"
)


def _call_orders(view: View, user: bool) -> Iterator[Hit]:
    text = view.text
    for found in _TOOL_REF.finditer(text):
        near = around(text, found.start(), found.end(), 30, 30)
        if not _CALL.search(near):
            continue
        # What the tool does: its name, or the words right after 「ツールで全件削除」.
        destructive = _DESTRUCTIVE.search(text, found.start(), found.end() + 12) is not None
        wide = around(text, found.start(), found.end(), 60, 80)
        covert = COVERT.search(wide) is not None
        imperative = IMPERATIVE.search(wide) is not None or _EN_ORDER.search(wide) is not None
        as_system = THIRD_PERSON_MODEL.search(wide) is not None
        if user:
            score = 0.45 if destructive and imperative else 0.05
            score += (0.3 if covert else 0.0) + (0.2 if as_system and destructive else 0.0)
        else:
            score = (0.75 if destructive else 0.45) if imperative else 0.3
            score += (0.15 if covert else 0.0) + (0.1 if as_system else 0.0)
        yield Hit(KIND, found.start(), found.end(), clamp(score))


def _shell(view: View, user: bool) -> Iterator[Hit]:
    text = view.text
    found_all = list(_SHELL.finditer(text))
    for found in found_all:
        # Two dangerous pieces together (download, then execute) are a payload, one is a
        # tutorial.
        score = 0.6 if len(found_all) > 1 else 0.35
        yield Hit(KIND, found.start(), found.end(), 0.1 if user else score)


def _hidden(view: View, user: bool) -> Iterator[Hit]:
    text = view.text
    for start, end in hidden_regions(text):
        inner = text[start:end]
        if _HIDDEN_ADDRESSEE.search(inner) and IMPERATIVE.search(inner):
            score = 0.3 if user else 0.7
            if COVERT.search(inner):
                score += 0.15
            yield Hit(KIND, start, end, clamp(score))


def scan(view: View, source: str) -> Iterator[Hit]:
    user = is_user(source)
    yield from _call_orders(view, user)
    yield from _shell(view, user)
    yield from _hidden(view, user)
