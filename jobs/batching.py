from collections.abc import Iterable, Iterator
from itertools import islice


def batched(items: Iterable, size: int) -> Iterator[tuple]:
    """itertools.batched, which Python gains only in 3.12."""
    it = iter(items)
    while batch := tuple(islice(it, size)):
        yield batch
