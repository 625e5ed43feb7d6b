"""Settings `providers.<name>.models.<id>` override a model's context window,
output limit and prices (or declare a model the catalog lacks), as the seed's
config allowed; a bad key or value is an error naming the file and the key."""

from __future__ import annotations

import pytest

from bridle.core.errors import ConfigError
from bridle.providers.catalog import load_catalog


def test_a_known_model_gets_a_smaller_window_and_prices() -> None:
    catalog = load_catalog(
        {"mock": {"models": {"anthropic": {"context": 16000, "input": 3.0, "output": 15.0}}}}
    )
    info = catalog.provider("mock").models["anthropic"]  # type: ignore[union-attr]
    assert info.context_window == 16000
    assert info.max_output == 32000  # not set: the catalog's
    assert info.prices is not None and (info.prices.input, info.prices.output) == (3.0, 15.0)


def test_a_custom_provider_declares_its_models() -> None:
    catalog = load_catalog(
        {
            "mylab": {
                "wire": "openai-chat",
                "base_url": "http://127.0.0.1:9/v1",
                "models": {"qwen3-coder": {"context": 32768, "max_output": 8192}},
            }
        }
    )
    info = catalog.provider("mylab").models["qwen3-coder"]  # type: ignore[union-attr]
    assert (info.context_window, info.max_output, info.prices) == (32768, 8192, None)


@pytest.mark.parametrize(
    ("models", "key", "message"),
    [
        ({"x": {"ctx": 1}}, "providers.mock.models.x.ctx", "unknown key 'ctx'"),
        ({"x": {"context": 0}}, "providers.mock.models.x.context", "whole number of tokens"),
        ({"x": {"context": 1.5}}, "providers.mock.models.x.context", "whole number of tokens"),
        ({"x": {"input": -1}}, "providers.mock.models.x.input", "price of 0 or more"),
        ({"x": 3}, "providers.mock.models.x", "must be an object"),
    ],
)
def test_bad_model_settings_name_the_key(models: object, key: str, message: str) -> None:
    from bridle.config.schema import validate

    with pytest.raises(ConfigError, match=message) as err:
        validate({"providers": {"mock": {"models": models}}}, "/p/settings.json")
    assert f"/p/settings.json: {key}: " in str(err.value)
