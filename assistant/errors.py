"""The error tree. Every message is one sentence: what failed, why, what to do."""


class AssistantError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(AssistantError):
    """A setting is missing or invalid."""


class ModelError(AssistantError):
    """An embedding or generative model cannot be installed or loaded."""


class IngestError(AssistantError):
    """One input cannot be ingested (the run skips it and goes on)."""


class StoreError(AssistantError):
    """The vector store failed."""


class StoreUnavailable(StoreError):
    """The vector store cannot be reached (server down, path unreadable)."""


class LLMError(AssistantError):
    """The generative model endpoint failed, timed out or answered garbage."""


class PromptError(AssistantError):
    """A prompt template is missing or was rendered with missing variables."""


class InputError(AssistantError):
    """A user's request is invalid (too long, unknown filter, bad history)."""


class RateLimited(AssistantError):
    """A client asked more often than the rate limit allows; `retry_after` says when to try again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many questions: wait {retry_after} s and ask again.")
        self.retry_after = retry_after


class Busy(AssistantError):
    """Every answer slot and queue place is taken: try again in a few seconds."""
