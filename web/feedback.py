"""Thumbs up/down on answers, appended as JSON lines under the data folder."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from assistant.errors import StoreError

FEEDBACK_FILE = "feedback.jsonl"


class FeedbackLog:
    """Append-only JSONL log of feedback; one line per vote, safe across threads of one process."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FEEDBACK_FILE
        self._lock = threading.Lock()

    def record(self, rating: str, question: str, answer: str, citations: list[dict[str, Any]],
               comment: str = "", source: str = "api") -> dict[str, Any]:
        """Append one vote and return the stored row."""
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down'. Currently, rating is {rating!r}")
        row = {"ts": round(time.time(), 3), "rating": rating, "question": question, "answer": answer,
               "citations": citations, "comment": comment, "via": source}
        line = json.dumps(row, ensure_ascii=False)
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # subtle: one write of a whole line keeps lines intact if two processes append at once
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(line + "\n")
        except OSError as exc:
            raise StoreError(
                f"Cannot write feedback to {self.path} ({exc.strerror}): check the data folder's permissions."
            ) from None
        return row

    def read(self) -> list[dict[str, Any]]:
        """Every stored vote, oldest first (for reports and tests)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as rows:
            return [json.loads(line) for line in rows if line.strip()]
