"""Page-number pagination with ``next``, ``previous``, ``count`` and ``results`` (API.md).

The query parameters mean what the schema says: ``page`` is a page number from 1 (a page that does not exist,
or a ``page`` that is not a number, is 404 ``not_found``); ``page_size`` is a whole number from 1, capped at
200 (anything else is 400 ``validation_error``, never silently the default size).
"""

from rest_framework import pagination

from locker.errors import InvalidInput
from locker.http import whole_number

MAX_PAGE_SIZE = 200


def page_size_from(request, *, param: str, default: int, maximum: int = MAX_PAGE_SIZE) -> int:
    """The ``page_size`` a request asks for: ``default`` when absent, capped at ``maximum``; 400 if not 1 or more."""
    values = request.query_params.getlist(param)
    if not values:
        return default
    value = values[0]
    size = whole_number(value)
    if len(values) > 1 or size is None or size < 1:
        raise InvalidInput(errors={param: ["A whole number from 1 (at most 200 are returned)."]})
    return min(size, maximum)


def page_size_schema(*, default: int, maximum: int = MAX_PAGE_SIZE) -> dict:
    return {
        "name": "page_size",
        "required": False,
        "in": "query",
        "description": f"Results per page (default {default}); a larger value than {maximum} returns {maximum}.",
        "schema": {"type": "integer", "minimum": 1},
    }


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()  # ``page`` is a number, as the schema says

    def get_page_size(self, request):
        return page_size_from(request, param=self.page_size_query_param, default=self.page_size)

    def get_page_number(self, request, paginator):
        # an empty ``page=`` is no page (404), not the first: the schema says "a page number"
        pages = request.query_params.getlist(self.page_query_param)
        if len(pages) > 1:
            raise InvalidInput(errors={self.page_query_param: ["Give one page number."]})
        return pages[0] if pages else 1

    def get_schema_operation_parameters(self, view):
        page = {
            "name": self.page_query_param,
            "required": False,
            "in": "query",
            "description": "A page number, from 1 (404 for a page that does not exist).",
            "schema": {"type": "integer", "minimum": 1},
        }
        return [page, page_size_schema(default=self.page_size)]
