"""Text primitives: languages, sentence segmenter, tokenizer, article-reference grammar, sanitizer."""
