"""Content negotiation: ``?format=`` means what the schema's enum says, or the request is refused."""

from django.http import Http404
from rest_framework.negotiation import DefaultContentNegotiation


class StrictFormatNegotiation(DefaultContentNegotiation):
    """``?format=`` names one renderer. Given empty or twice it names none, which is a 404 as for an unknown one
    (DRF would ignore an empty one and answer in whatever the Accept header asks for)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        param = self.settings.URL_FORMAT_OVERRIDE
        if param and not format_suffix and param in request.query_params:
            values = request.query_params.getlist(param)
            if len(values) != 1 or not values[0]:
                raise Http404(f"Give {param} once, as one of the formats this operation answers in.")
        return super().select_renderer(request, renderers, format_suffix)
