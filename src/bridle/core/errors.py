"""bridle's one error tree, classified by who must act on the error.

    BridleError
    ├── UserError                  the user must act: print the fix-it message, exit
    │   ├── UsageError             bad flags or arguments (exit 64)
    │   ├── ConfigError            a settings file or key is wrong (names file and key)
    │   ├── UnknownModelError      a model string resolves to nothing (close matches; exit 64)
    │   └── MissingKeyError        no API key (the env var, `bridle accounts keys set`; exit 64)
    ├── ProviderError              a model call failed after retries; the turn aborts
    │   ├── ProviderHTTPError      a non-2xx answer (status, type, message)
    │   │   ├── AuthenticationError    401/403: never retried
    │   │   ├── NotFoundError          404: never retried (model or endpoint)
    │   │   ├── BadRequestError        400/422: never retried
    │   │   │   └── ContextWindowExceeded  the request is longer than the model's window
    │   │   ├── RateLimitError         429: retried, then the account rotates (exit 75)
    │   │   │   └── QuotaExceeded      quota or credit used up: never retried, rotate at once
    │   │   ├── OverloadedError        529 / 503 overloaded
    │   │   ├── ServerError            5xx
    │   │   └── StreamError            the provider reported an error inside a 200 stream
    │   ├── ConnectionFailed       DNS, refused, reset, TLS
    │   ├── StreamTimeout          no byte arrived within the idle timeout
    │   └── ProtocolError          bytes that do not parse as the wire says they must
    └── ToolError                  the model must act: fed back as an error tool result

Foreign exceptions (httpx, json, OSError) are translated to these at exactly one
boundary per adapter, with `raise ... from e`; an HTTP answer is classified by
`http_error_for` and an in-stream error by `stream_error_for`, from the status,
the provider's error type and its message. Every `ProviderError` names its
`kind` ("auth", "rate_limit", "quota", "context_window", "network", "provider"),
which a turn's result carries next to the message. This module holds values and
classification only; it does no I/O and imports nothing outside the stdlib.
"""

from __future__ import annotations


class BridleError(Exception):
    """Root of every error bridle raises on purpose."""

    exit_code = 1


class UserError(BridleError):
    """The user must act; `str(err)` is a complete fix-it message."""


class UsageError(UserError):
    exit_code = 64


class ConfigError(UserError):
    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        where = ""
        if path and key:
            where = f"{path}: {key}: "
        elif path:
            where = f"{path}: "
        elif key:
            where = f"{key}: "
        super().__init__(where + message)
        self.path = path
        self.key = key


class UnknownModelError(UserError):
    # The --model argument (or the "model" setting) is wrong: a usage error.
    exit_code = 64

    def __init__(self, model: str, suggestions: list[str] | None = None):
        self.model = model
        self.suggestions = suggestions or []
        msg = f"unknown model {model!r}."
        if self.suggestions:
            msg += " Did you mean: " + ", ".join(self.suggestions) + "?"
        msg += " Use provider/model (see `bridle models`), or mock/<name> for the bundled mock."
        super().__init__(msg)


class MissingKeyError(UserError):
    # Checked before any request is sent, like a bad flag: a usage error.
    exit_code = 64

    def __init__(self, provider: str, env_vars: list[str]):
        self.provider = provider
        self.env_vars = env_vars
        first = env_vars[0] if env_vars else f"{provider.upper()}_API_KEY"
        names = " or ".join(env_vars) if env_vars else first
        super().__init__(
            f"No API key for {provider}: set {names}, or store one with "
            f"`bridle accounts keys set <account> {first}`; "
            f"to try bridle without a key use --model mock/default."
        )


class ProviderError(BridleError):
    """A model call failed; `retryable` says whether trying again could help, and
    `kind` names the failure for a turn's result."""

    retryable = False
    kind = "provider"

    def __init__(self, message: str, *, provider: str | None = None):
        self.provider = provider
        prefix = f"{provider}: " if provider else ""
        super().__init__(prefix + message)
        self.message = message


class ProviderHTTPError(ProviderError):
    # What the user can do, when the class alone says it (else chosen by status).
    fix: str | None = None

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
        body: str | None = None,
    ):
        self.status = status
        self.error_type = error_type
        self.retry_after = retry_after
        self.body = body
        detail = f"HTTP {status}" if status is not None else "error"
        if error_type:
            detail += f" {error_type}"
        fix = self.fix if self.fix is not None else _fix_for(status, error_type)
        super().__init__(f"{detail}: {message}{fix}", provider=provider)
        self.message = message


def _fix_for(status: int | None, error_type: str | None = None) -> str:
    """What the user can do about a failed call, by status (or, inside a 200
    stream, by the provider's error type)."""
    if status in (401, 403):
        return " (check the API key: `bridle models` shows which keys are set)"
    if status == 404:
        return " (check the model name and base_url: `bridle models` lists them)"
    if status == 429 or error_type in ("rate_limit_error", "insufficient_quota"):
        return " (rate limit or quota: wait, or switch account with --account)"
    if status == 529 or error_type == "overloaded_error":
        return " (the provider is overloaded: try again later, or pick another --model)"
    if status is not None and (status >= 500 or status == 408):
        return " (the provider failed: try again later, or pick another --model)"
    if status is not None and 400 <= status < 500:
        return (
            " (the provider rejected the request: change what the message names, "
            "or pick another --model)"
        )
    return ""


class AuthenticationError(ProviderHTTPError):
    kind = "auth"


class NotFoundError(ProviderHTTPError):
    pass


class BadRequestError(ProviderHTTPError):
    pass


class ContextWindowExceeded(BadRequestError):
    """The request (conversation, tools and output budget) is longer than the
    model's context window; compacting or a new session can help, retrying cannot."""

    kind = "context_window"
    fix = (
        " (the conversation no longer fits the model's context window: start a new "
        "session, or pick a --model with a larger window)"
    )


class RateLimitError(ProviderHTTPError):
    retryable = True
    exit_code = 75
    kind = "rate_limit"


class QuotaExceeded(RateLimitError):
    """The account's quota or credit is used up: waiting will not help, so it is
    never retried, and account rotation (which catches `RateLimitError`) switches
    at once."""

    retryable = False
    kind = "quota"
    fix = (
        " (the account's quota or credit is used up: add credit or raise the quota, "
        "or switch account with --account)"
    )


class OverloadedError(ProviderHTTPError):
    retryable = True


class ServerError(ProviderHTTPError):
    retryable = True


class StreamError(ProviderHTTPError):
    """An error event inside an HTTP 200 stream (Anthropic `error`, Responses
    `response.failed`, an OpenRouter chunk with `error`)."""

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.status is None or self.status in RETRYABLE_STATUSES or self.status >= 500


class ConnectionFailed(ProviderError):
    retryable = True
    kind = "network"


class StreamTimeout(ProviderError):
    retryable = True
    kind = "network"


class ProtocolError(ProviderError):
    pass


class ToolError(BridleError):
    """Raised by a tool; the engine turns it into an `is_error` tool result."""


RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})


# Error types (or codes) that mean the account's quota or credit is used up:
# OpenAI and compatible servers, Anthropic, Moonshot, DeepSeek-style balances,
# Z.ai GLM's code 1113, Alibaba's Arrearage.
_QUOTA_TYPES = frozenset(
    {
        "insufficient_quota",
        "billing_error",
        "exceeded_current_quota_error",
        "insufficient_balance",
        "insufficient_credits",
        "arrearage",
        "1113",
    }
)
_QUOTA_TEXT = (
    "insufficient_quota",
    "insufficient balance",
    "insufficient account balance",
    "insufficient credits",
    "credit balance is too low",
    "余额不足",
)
# Phrases (and codes) with which providers refuse a request longer than the window.
_WINDOW_TEXT = (
    "context_length_exceeded",
    "maximum context length",
    "context window",
    "exceed context limit",
    "prompt is too long",
    "exceeds the maximum number of tokens",
    "exceeded model token limit",
    "exceeds the available context size",
    "prompt exceeds max length",
)


def _special(
    status: int | None, error_type: str | None, message: str, body: str | None
) -> type[ProviderHTTPError] | None:
    """QuotaExceeded or ContextWindowExceeded when the answer says so, else None.
    Gemini says RESOURCE_EXHAUSTED for every quota and every one mentions billing;
    only a per-day quota id means waiting minutes will not help."""
    etype = (error_type or "").lower()
    text = f"{message}\n{body or ''}".lower()
    if status in (None, 400, 402, 403, 429):
        if status == 402 or etype in _QUOTA_TYPES or any(t in text for t in _QUOTA_TEXT):
            return QuotaExceeded
        if etype == "resource_exhausted" and ("perday" in text or "per day" in text):
            return QuotaExceeded
    if status in (None, 400, 413, 422) and any(t in text for t in _WINDOW_TEXT):
        return ContextWindowExceeded
    return None


def http_error_for(
    status: int,
    message: str,
    *,
    provider: str | None = None,
    error_type: str | None = None,
    retry_after: float | None = None,
    body: str | None = None,
) -> ProviderHTTPError:
    """The typed error for an HTTP status; the single place statuses are classified."""
    cls: type[ProviderHTTPError]
    quota = error_type in ("insufficient_quota", "RESOURCE_EXHAUSTED", "rate_limit_error")
    special = _special(status, error_type, message, body)
    if special is not None:
        cls = special
    elif status in (401, 403):
        cls = AuthenticationError
    elif status == 404:
        cls = NotFoundError
    elif status == 429 or quota:
        cls = RateLimitError
    elif status in (529,) or error_type == "overloaded_error":
        cls = OverloadedError
    elif status >= 500 or status == 408:
        cls = ServerError
    else:
        cls = BadRequestError
    return cls(
        message,
        provider=provider,
        status=status,
        error_type=error_type,
        retry_after=retry_after,
        body=body,
    )


def stream_error_for(
    status: int | None, error_type: str | None, message: str, *, provider: str | None = None
) -> ProviderHTTPError:
    """The typed error for an error reported inside a 200 stream: a used-up quota
    or an overlong request keeps its class; anything else is a `StreamError`."""
    cls = _special(status, error_type, message, None) or StreamError
    return cls(message, provider=provider, status=status, error_type=error_type)
