"""Working through millions of rows a bounded batch at a time."""


def chunked(items, size: int):
    """Yield lists of at most ``size`` items from any iterable, lazily."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
