"""The index: the chunk store (the only chromadb import), the lexical index, visibility of documents."""
