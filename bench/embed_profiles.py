"""Compare the embedding profiles on cross-lingual retrieval over ../shared/corpus, and time them.

Each query (en, fr or vi) has its answer in a passage of another language. Passages are the
paragraphs of the digests, the French press article and the Budapest Convention. Reports top-1,
MRR, passages/s (float32 and bfloat16) and the median query latency per profile.

Usage: .venv/bin/python bench/embed_profiles.py [--profiles small quality] [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.config import load_settings  # noqa: E402
from assistant.models import profiles as models  # noqa: E402
from assistant.models.embeddings import Embedder, load_embedder  # noqa: E402

# (query, language, accepted answers as (file name fragment, substring of the answer passage))
QUERIES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("Thời hạn tối đa để bảo quản dữ liệu máy tính theo Công ước Budapest là bao lâu?", "vi",
     [("budapest", "up to a maximum of ninety days")]),
    ("Qu'est-ce que le réseau 24/7 prévu par la Convention de Budapest ?", "fr",
     [("12_en", "Explains the 24/7 Network"), ("12_en", "The Network of 24/7 is a tool"),
      ("budapest", "twenty-four hour, seven-day-a-week")]),
    ("Những công ty công nghệ nào đã tẩy chay lễ ký Công ước ở Hà Nội?", "vi",
     [("36_fr", "Meta, Dell et Infosys")]),
    ("How many chapters and articles does the Hanoi Convention have?", "en",
     [("22_vi", "9 chương, 71 điều"), ("26_vi", "9 Chương và 71 điều")]),
    ("How many of the Convention's provisions overlap with UNTOC and UNCAC?", "en",
     [("24_vi", "37/68")]),
    ("Qui a signé la Convention au nom du Viet Nam ?", "fr",
     [("23_vi", "Đại tướng Lương Tam Quang")]),
    ("Can the EU sign and ratify the convention, and under what condition?", "en",
     [("53_fr", "si au moins un de ses États membres")]),
    ("Ai đã đề xuất Công ước này và vào năm nào?", "vi",
     [("35_fr", "proposée par la Russie en 2017")]),
    ("What is Vietnam's world ranking in cybersecurity?", "en",
     [("32_fr", "16ᵉ rang mondial"), ("32_fr", "16e rang mondial")]),
    ("Quand le deuxième protocole additionnel a-t-il été ouvert à la signature ?", "fr",
     [("13_en", "12 May 2022")]),
    ("Tại sao EFF kêu gọi các quốc gia không ký Công ước?", "vi",
     [("40_en", "urging UN Member States not to sign"), ("40_en", "broad electronic surveillance")]),
    ("Công ước được mở ký tại New York đến khi nào?", "vi",
     [("03_en", "31 December 2026"), ("51_fr", "31 décembre 2026")]),
    ("Which Lao leader attended the signing session in Hanoi?", "en",
     [("23_vi", "Thongloun Sisoulith")]),
    ("Quyết định của Hội đồng EU về Nghị định thư bổ sung thứ hai dựa trên điều khoản nào?", "vi",
     [("14_fr", "fondée sur l'article 16 et l'article 82")]),
    ("Combien d'arrestations HRW a-t-elle recensées au Vietnam en 2025 pour des publications en ligne ?",
     "fr", [("38_en", "at least 40 arrests")]),
    ("Dữ liệu lưu lượng phải được bảo quản nhanh chóng như thế nào khi có nhiều nhà cung cấp dịch vụ?", "vi",
     [("budapest", "regardless of whether one or more service providers")]),
    ("Quelle est la définition de « fournisseur de services » dans la Convention de Budapest ?", "fr",
     [("budapest", "any public or private entity that provides to users of its service")]),
    ("What was the theme of the signing ceremony in Hanoi?", "en",
     [("22_vi", "Chia sẻ trách nhiệm")]),
    ("Theo giáo sư luật, điều 17 về rửa tiền cần được áp dụng như thế nào?", "vi",
     [("51_fr", "l'article 17 sur le blanchiment")]),
    ("What did the Secretary-General say about restoring digital justice at the Hanoi press conference?",
     "en", [("fr_vietnamvn", "pilier pour aider à rétablir la justice numérique")]),
]


def load_passages(corpus: Path) -> list[tuple[str, str]]:
    """(file name, paragraph) for every paragraph of at least 40 characters, header excluded."""
    files = sorted((corpus / "digests").glob("*.txt")) + sorted((corpus / "press").glob("*.txt"))
    files.append(corpus / "texts" / "coe_budapest_convention_ets185_en.txt")
    passages = []
    for path in files:
        body = path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
        for block in body.split("\n\n"):
            for line in block.split("\n"):
                text = line.strip()
                if len(text) >= 40:
                    passages.append((path.name, text[:1200]))
    return passages


def answer_ranks(embedder: Embedder, passages: list[tuple[str, str]]) -> tuple[list[int], list[float]]:
    """Rank (1-based) of the first accepted passage for each query, and each query's latency in ms."""
    doc_vecs = np.array(embedder.embed_batch([text for _, text in passages], "document"))
    ranks, latencies = [], []
    for query, _, accepted in QUERIES:
        start = time.perf_counter()
        (qvec,) = embedder.embed_batch([query], "query")
        latencies.append((time.perf_counter() - start) * 1000)
        order = np.argsort(-(doc_vecs @ np.array(qvec)))
        hits = [
            rank
            for rank, idx in enumerate(order, 1)
            if any(frag in passages[idx][0] and needle in passages[idx][1] for frag, needle in accepted)
        ]
        ranks.append(hits[0])
    return ranks, latencies


def throughput(embedder: Embedder, texts: list[str]) -> float:
    """Passages per second over `texts` (after one warm-up batch)."""
    embedder.embed_batch(texts[:2], "document")
    start = time.perf_counter()
    embedder.embed_batch(texts, "document")
    return len(texts) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", nargs="+", default=["small", "quality"])
    parser.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus"))
    parser.add_argument("--speed-passages", type=int, default=32, help="passages timed per dtype")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"], help="dtypes timed")
    # ranking every dtype doubles the run; pass --rank-dtypes float32 bfloat16 to compare rankings
    parser.add_argument("--rank-dtypes", nargs="+", default=["float32"], help="dtypes ranked")
    args = parser.parse_args()
    passages = load_passages(Path(args.corpus))
    for query, _, accepted in QUERIES:  # a typo in a needle would silently count as a miss
        if not any(f in name and n in text for name, text in passages for f, n in accepted):
            print(f"error: no passage matches the answer of {query!r}", file=sys.stderr)
            return 2
    # timed on the longest passages, closest to the ~200-token chunks the pipeline embeds
    speed_set = sorted((text for _, text in passages), key=len, reverse=True)[: args.speed_passages]
    print(f"{len(QUERIES)} queries, {len(passages)} passages; speed on {len(speed_set)} passages "
          f"(mean {statistics.mean(map(len, speed_set)):.0f} chars)")
    print(f"{'profile':<9}{'dtype':<10}{'top-1':>7}{'MRR':>7}{'pass/s':>8}{'query ms (median)':>19}")
    for name in args.profiles:
        settings = load_settings(embedding_model=name)
        if not models.is_installed(name, settings.models_dir):
            print(f"{name:<9}not installed (convention-assistant models install {name})")
            continue
        for dtype in args.dtypes:
            embedder = load_embedder(load_settings(embedding_model=name, embedding_dtype=dtype))
            speed = throughput(embedder, speed_set)
            if dtype not in args.rank_dtypes:
                print(f"{name:<9}{dtype:<10}{'-':>7}{'-':>7}{speed:>8.1f}", flush=True)
                continue
            ranks, latencies = answer_ranks(embedder, passages)
            top1 = sum(r == 1 for r in ranks)
            mrr = statistics.mean(1 / r for r in ranks)
            print(f"{name:<9}{dtype:<10}{top1:>4}/{len(ranks):<2}{mrr:>7.3f}{speed:>8.1f}"
                  f"{statistics.median(latencies):>19.0f}   ranks {ranks}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
