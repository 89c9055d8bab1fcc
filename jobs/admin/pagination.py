from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    """Counts matching rows only up to CAP. Counting every file that matches a search is the
    slowest query of a list page over a large library; past the cap, staff narrow the list with
    its filters and search rather than page through it."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.CAP].count()
