"""The provider layer: catalog (`catalog.toml` + settings), model resolution,
credentials lookup, Anthropic cache planning and cost. Wire formats live in
`wire/`; this package only decides where a call goes and what it costs."""

from bridle.providers.catalog import Catalog, ModelInfo, Prices, ProviderSpec, load_catalog
from bridle.providers.resolve import ResolvedModel, resolve_model

__all__ = [
    "Catalog",
    "ModelInfo",
    "Prices",
    "ProviderSpec",
    "ResolvedModel",
    "load_catalog",
    "resolve_model",
]
