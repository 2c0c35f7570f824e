"""A local GGUF model served on loopback by xllamacpp (llama.cpp's OpenAI-compatible server)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import TracebackType
from typing import Any

from assistant.errors import LLMError, ModelError

log = logging.getLogger(__name__)

_GGUF_MAGIC = b"GGUF"


class LocalGGUFServer:
    """Starts llama.cpp's server for one GGUF file on a free loopback port; use as a context manager."""

    def __init__(self, gguf_path: str | Path, n_ctx: int = 4096, threads: int = 0) -> None:
        if n_ctx <= 0:
            raise ModelError(f"n_ctx must be greater than 0. Currently, n_ctx is {n_ctx}")
        if threads < 0:
            raise ModelError(f"threads must be 0 (all cores) or more. Currently, threads is {threads}")
        self.gguf_path = Path(gguf_path)
        self.n_ctx = n_ctx
        self.threads = threads or os.cpu_count() or 1
        self._server: Any = None
        self._address = ""

    def _check_file(self) -> None:
        try:
            with self.gguf_path.open("rb") as handle:
                magic = handle.read(4)
        except OSError as exc:
            raise ModelError(
                f"The GGUF model {self.gguf_path} cannot be read ({exc.strerror or exc}); "
                "fix CA_LLM_GGUF_PATH."
            ) from None
        if magic != _GGUF_MAGIC:
            raise ModelError(
                f"{self.gguf_path} is not a GGUF model file; point CA_LLM_GGUF_PATH to a .gguf file."
            )

    def start(self) -> str:
        """Load the model and listen on 127.0.0.1; returns base_url. Idempotent."""
        if self._server is not None:
            return self.base_url
        self._check_file()
        import xllamacpp  # subtle: loads llama.cpp's native library; only when a local model is wanted

        params = xllamacpp.CommonParams()
        params.model.path = str(self.gguf_path)
        params.n_ctx = self.n_ctx
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        # subtle: busy-polling threads starve everything else on a shared CPU and gain little here
        params.cpuparams.poll = 0
        params.cpuparams_batch.poll = 0
        params.n_parallel = 1  # one slot keeps the whole context for one answer
        params.port = 0  # the OS picks a free port
        # llama.cpp writes its own log straight to stderr; keep it only when we debug
        params.verbosity = 1 if log.isEnabledFor(logging.DEBUG) else -1
        try:
            self._server = xllamacpp.Server(params)
        except RuntimeError as exc:
            log.warning("xllamacpp failed to start for %s: %s", self.gguf_path, exc)
            raise ModelError(
                f"The local model {self.gguf_path.name} could not be loaded by llama.cpp; "
                "check that the file is a complete chat GGUF and that enough memory is free."
            ) from None
        self._address = str(self._server.listening_address).rstrip("/")
        log.info("local model %s served at %s", self.gguf_path.name, self._address)
        return self.base_url

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible endpoint, e.g. http://127.0.0.1:40123/v1."""
        if self._server is None:
            raise LLMError("The local model server is not running; call start() or use it in a with block.")
        return f"{self._address}/v1"

    def stop(self) -> None:
        """Stop the server and free the model (llama.cpp stops when its Server object is released)."""
        server, self._server = self._server, None
        del server

    def __enter__(self) -> LocalGGUFServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
