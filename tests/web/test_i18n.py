"""mamori.web.i18n: catalogs, fallback, language negotiation and the strings app.js needs."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from mamori import errors
from mamori.web import i18n

LOCALES = Path(i18n.__file__).parent / "locales"
STATIC = Path(i18n.__file__).parent / "static"
TEMPLATES = Path(i18n.__file__).parent / "templates"

ERROR_CODES = (
    "internal_error",
    "unauthenticated",
    "forbidden",
    "not_found",
    "invalid_request",
    "no_route",
    "model_not_found",
    "no_healthy_endpoint",
    "upstream_error",
    "engine_unavailable",
    "engine_http_error",
    "engine_timeout",
    "engine_stream_broken",
    "stopped_by_user",
    "login_failed",
    "too_many_attempts",
)


def _load(lang: str) -> dict[str, str]:
    data = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_have_identical_keys() -> None:
    ja, en = _load("ja"), _load("en")
    assert set(ja) == set(en), set(ja) ^ set(en)


def test_catalog_values_are_non_empty_strings_with_matching_placeholders() -> None:
    ja, en = _load("ja"), _load("en")
    for key, text in ja.items():
        assert isinstance(text, str) and text.strip(), key
        assert isinstance(en[key], str) and en[key].strip(), key
        assert _placeholders(text) == _placeholders(en[key]), key


def test_keys_are_namespaced() -> None:
    for key in _load("ja"):
        assert re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)+", key), key


@pytest.mark.parametrize("code", ERROR_CODES)
def test_required_error_codes_present(code: str) -> None:
    for lang in i18n.SUPPORTED:
        assert f"error.{code}" in i18n.catalog(lang)


def test_every_mamori_error_code_has_a_message() -> None:
    def subclasses(cls: type[errors.MamoriError]) -> list[type[errors.MamoriError]]:
        found = [cls]
        for sub in cls.__subclasses__():
            found.extend(subclasses(sub))
        return found

    import mamori.store.errors  # noqa: F401  (registers its MamoriError subclasses)

    for cls in subclasses(errors.MamoriError):
        assert f"error.{cls.code}" in i18n.catalog("ja"), cls.__name__
    # Codes the web layer raises or answers with that have no exception class of their own.
    for code in ("csrf_failed", "method_not_allowed", "http_error", "network"):
        assert f"error.{code}" in i18n.catalog("ja"), code


def test_engine_unavailable_message_tells_what_to_do() -> None:
    text = i18n.translate("ja", "error.engine_unavailable")
    assert "しばらくしてから" in text
    assert "入力した文章は残っています" in text


def test_translate_languages_and_params() -> None:
    assert i18n.translate("ja", "chat.send") == "送信"
    assert i18n.translate("en", "chat.send") == "Send"
    assert i18n.translate("en", "chat.reasoning_count", count=12) == "12 characters"
    assert i18n.translate("ja", "chat.reasoning_count", count=12) == "12文字"


def test_translate_falls_back_to_japanese_then_key(monkeypatch: pytest.MonkeyPatch) -> None:
    ja_only = dict(i18n.catalog("ja"), **{"test.only_ja": "日本語だけ"})
    real = i18n.catalog

    def fake(lang: str) -> dict[str, str]:
        return ja_only if lang == "ja" else dict(real(lang))

    monkeypatch.setattr(i18n, "catalog", fake)
    assert i18n.translate("en", "test.only_ja") == "日本語だけ"
    assert i18n.translate("en", "no.such.key") == "no.such.key"


def test_translate_unknown_language_uses_japanese() -> None:
    assert i18n.translate("fr", "chat.send") == "送信"


def test_translate_never_raises_on_bad_params() -> None:
    # Missing placeholder value: the unformatted text, not an exception.
    assert i18n.translate("en", "chat.reasoning_count", other=1) == "{count} characters"
    # Extra params are ignored.
    assert i18n.translate("en", "chat.send", extra=1) == "Send"


def test_translator_binds_language() -> None:
    t = i18n.translator("en")
    assert t("login.title") == "Sign in"
    assert (
        t("chat.delete_confirm", title="x") == "Delete the conversation “x”? This cannot be undone."
    )


def test_error_message_known_and_unknown_codes() -> None:
    assert i18n.error_message("en", "login_failed") == i18n.translate("en", "error.login_failed")
    assert i18n.error_message("ja", "no_such_code") == i18n.translate("ja", "error.internal_error")


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        (None, None, "ja"),
        ("", "", "ja"),
        ("en", None, "en"),
        ("ja", "en-US,en;q=0.9", "ja"),  # the cookie wins
        (" EN ", None, "en"),
        ("fr", "en-US", "en"),  # unsupported cookie: fall through to the header
        ("fr", None, "ja"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "en-GB", "en"),
        (None, "ja,en-US;q=0.9,en;q=0.8", "ja"),
        (None, "en-US,en;q=0.9,ja;q=0.8", "en"),
        (None, "ja;q=0.5,en;q=0.9", "en"),
        (None, "en;q=0.5,ja;q=0.9", "ja"),
        (None, "en,ja", "en"),  # equal q: the first listed is preferred
        (None, "ja,en", "ja"),
        (None, "fr-FR,de;q=0.9", "ja"),
        (None, "*", "ja"),
        (None, "en;q=0", "ja"),
        (None, "fr, en;q=0.1", "en"),
        (None, "garbage;;;,,,", "ja"),
        (None, "en;q=abc", "ja"),
    ],
)
def test_negotiate(cookie: str | None, accept: str | None, expected: str) -> None:
    assert i18n.negotiate(cookie, accept) == expected


def test_js_strings_keys_exist_in_both_catalogs() -> None:
    for key in i18n.JS_KEYS:
        for lang in i18n.SUPPORTED:
            assert key in i18n.catalog(lang), (lang, key)


def test_js_strings_contents() -> None:
    ja, en = i18n.js_strings("ja"), i18n.js_strings("en")
    assert set(ja) == set(en)
    assert set(i18n.JS_KEYS) <= set(ja)
    errors_in_catalog = {k for k in i18n.catalog("ja") if k.startswith("error.")}
    assert errors_in_catalog <= set(ja)
    assert ja["chat.stopped"] == "中断"
    assert en["chat.reasoning"] == "Reasoning"
    assert all(isinstance(v, str) for v in ja.values())


def test_js_keys_documented_in_app_js() -> None:
    """Every key the scripts read through t("...") is in JS_KEYS (or is an error key), and every
    JS_KEYS entry is documented at the top of app.js."""
    scripts = [STATIC / "app.js", *sorted((STATIC / "js").glob("*.js"))]
    source = "\n".join(path.read_text(encoding="utf-8") for path in scripts)
    used = set(re.findall(r"\bt\(\s*\"([a-z_]+\.[a-z0-9_.]+)\"", source))
    used |= {f"chat.residency.{r}" for r in ("onprem", "domestic_cloud", "foreign")} | {
        f"chat.residency_help.{r}" for r in ("onprem", "domestic_cloud", "foreign")
    }
    allowed = set(i18n.JS_KEYS) | {k for k in i18n.catalog("ja") if k.startswith("error.")}
    assert used <= allowed, used - allowed
    assert set(i18n.JS_KEYS) <= used, set(i18n.JS_KEYS) - used  # no stale entries
    header = scripts[0].read_text(encoding="utf-8").split("*/", 1)[0]
    for key in i18n.JS_KEYS:
        assert key in header, f"{key} not documented at the top of app.js"


def test_template_keys_exist() -> None:
    """Literal t('...') keys used by the templates exist in the catalogs."""
    keys: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        keys |= set(re.findall(r"\bt\('([a-z_]+\.[a-z0-9_.]+)'", path.read_text(encoding="utf-8")))
    assert keys
    prefixes = {k for k in keys if k.endswith(".")}  # t('chat.effort.' ~ e): checked below
    missing = (keys - prefixes) - set(i18n.catalog("ja"))
    assert not missing, missing
    for effort in ("low", "medium", "high"):
        assert f"chat.effort.{effort}" in i18n.catalog("ja")
    for residency in ("onprem", "domestic_cloud", "foreign"):
        assert f"chat.residency.{residency}" in i18n.catalog("ja")
        assert f"chat.residency_help.{residency}" in i18n.catalog("ja")


def test_catalog_is_cached_and_read_only() -> None:
    assert i18n.catalog("ja") is i18n.catalog("ja")
    with pytest.raises(TypeError):
        i18n.catalog("ja")["chat.send"] = "x"  # type: ignore[index]
