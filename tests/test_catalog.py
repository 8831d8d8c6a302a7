"""mamori.toml's [models.NAME] tables refine what is known about a model."""

from __future__ import annotations

from mamori.catalog import LOCAL_MODEL, LOCAL_MODEL_INFO, apply_model_settings
from mamori.settings import ModelSettings, Settings


def test_only_written_keys_replace_known_metadata(tmp_path: object) -> None:
    settings = Settings(
        local_engine=False,
        models={
            LOCAL_MODEL: ModelSettings(max_output_tokens=48),
            "gpt-oss-120b": ModelSettings(supports_reasoning_effort=True),
        },
    )
    models = apply_model_settings({LOCAL_MODEL: LOCAL_MODEL_INFO}, settings)
    demo = models[LOCAL_MODEL]
    assert demo.max_output_tokens == 48
    assert demo.is_demo and demo.description_ja == LOCAL_MODEL_INFO.description_ja
    assert models["gpt-oss-120b"].supports_reasoning_effort
    assert models["gpt-oss-120b"].display_name == "gpt-oss-120b"
