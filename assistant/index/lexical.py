"""An Okapi BM25 index over the project's multilingual tokens, held in memory."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable

import numpy as np

from assistant.text.tokenizer import tokenize


class BM25Index:
    """Okapi BM25 (k1=1.2, b=0.75) over (chunk_id, text, language) triples, held in memory."""

    def __init__(self, items: Iterable[tuple[str, str, str]], k1: float = 1.2, b: float = 0.75) -> None:
        if k1 <= 0 or not 0 <= b <= 1:
            raise ValueError(f"k1 must be > 0 and b in [0, 1]. Currently, k1 is {k1} and b is {b}")
        self.k1, self.b = k1, b
        self.ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._vocab: dict[str, int] = {}
        rows: list[int] = []
        term_ids: list[int] = []
        tfs: list[int] = []
        lengths: list[int] = []
        self._languages: dict[int, set[str]] = {}  # term id -> the languages of the passages holding it
        self._sorted: list[str] | None = None  # the vocabulary in order, built on the first prefix lookup
        for chunk_id, text, language in items:
            row = len(self.ids)
            self.ids.append(chunk_id)
            self._pos[chunk_id] = row
            tokens = tokenize(text, language or None)
            lengths.append(len(tokens))
            counts = Counter(tokens)
            rows.extend([row] * len(counts))
            ids = [self._vocab.setdefault(term, len(self._vocab)) for term in counts]
            term_ids.extend(ids)
            for t in ids:
                self._languages.setdefault(t, set()).add(language)
            tfs.extend(counts.values())
        # postings as one CSR matrix, term-major: the rows holding term t are _rows[_ptr[t]:_ptr[t+1]]
        order = np.argsort(np.asarray(term_ids, dtype=np.int64), kind="stable")
        self._rows = np.asarray(rows, dtype=np.int64)[order]
        self._tfs = np.asarray(tfs, dtype=np.float32)[order]
        df = np.bincount(np.asarray(term_ids, dtype=np.int64), minlength=len(self._vocab))
        self._ptr = np.concatenate([[0], np.cumsum(df)])
        n = len(self.ids)
        self._idf = np.log1p((n - df + 0.5) / (df + 0.5))
        length = np.asarray(lengths, dtype=np.float32)
        avg = float(length.mean()) if lengths else 1.0
        self._norm = k1 * (1 - b + b * length / max(avg, 1e-9))

    def __len__(self) -> int:
        return len(self.ids)

    def known_prefix(self, prefix: str, language: str) -> bool:
        """Whether a passage in `language` holds a term that begins with `prefix` ("name" -> "named")."""
        if self._sorted is None:
            self._sorted = sorted(self._vocab)
        i = bisect.bisect_left(self._sorted, prefix)
        while i < len(self._sorted) and self._sorted[i].startswith(prefix):
            if language in self._languages[self._vocab[self._sorted[i]]]:
                return True
            i += 1
        return False

    def known(self, term: str, language: str | None = None) -> bool:
        """Whether any indexed passage (in `language`, when given) holds the (tokenized) term."""
        t = self._vocab.get(term)
        return t is not None and (language is None or language in self._languages[t])

    def search(
        self, query: str, k: int, allowed: set[str] | None = None, language: str | None = None
    ) -> list[tuple[str, float]]:
        """Top k (chunk_id, BM25 score) for `query`, restricted to `allowed` ids when given."""
        if k <= 0 or not self.ids:
            return []
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for term in set(tokenize(query, language)):
            t = self._vocab.get(term)
            if t is None:
                continue
            span = slice(self._ptr[t], self._ptr[t + 1])
            docs, tfs = self._rows[span], self._tfs[span]
            scores[docs] += self._idf[t] * tfs * (self.k1 + 1) / (tfs + self._norm[docs])
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=bool)
            rows = [self._pos[c] for c in allowed if c in self._pos]
            mask[rows] = True
            scores = np.where(mask, scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        if candidates.size == 0:
            return []
        top = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
        return [(self.ids[i], float(scores[i])) for i in top]
