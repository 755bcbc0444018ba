"""Page-number pagination with ``next``, ``previous``, ``count`` and ``results`` (API.md)."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
