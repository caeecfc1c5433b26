"""The model client: sync and async chat calls with timing, retries and a call log."""

from llmkit.llm._client import AsyncChatStream, AsyncClient, ChatStream, Client, Messages
from llmkit.llm._config import Endpoint, RetryPolicy, Timeouts
from llmkit.llm._log import CallLog, default_log_path, llmkit_home, read_calls, read_log
from llmkit.llm._result import Attempt, CallResult

__all__ = [
    "AsyncChatStream",
    "AsyncClient",
    "Attempt",
    "CallLog",
    "CallResult",
    "ChatStream",
    "Client",
    "Endpoint",
    "Messages",
    "RetryPolicy",
    "Timeouts",
    "default_log_path",
    "llmkit_home",
    "read_calls",
    "read_log",
]
