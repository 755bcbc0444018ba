"""Text recognition settings and state over HTTP: ``/api/v1/me/text-recognition``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from locker.http import RequestMeta
from locker.serializers import ErrorSerializer, StrictBooleanField, StrictCharField, validated
from locker.textrules import OCR_LANGUAGE
from vault.derived import ocr
from vault.files.apis import vault_keys_if_unlocked


class _Counts(serializers.Serializer):
    pending = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()


class TextRecognitionOutput(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Whether your uploaded images and PDFs are read for search.")
    available = serializers.BooleanField(help_text="False when this server has no Tesseract (nothing is read).")
    languages = serializers.ListField(child=serializers.CharField(), help_text="The languages read, in order.")
    installed = serializers.ListField(child=serializers.CharField(), help_text="The languages you can choose.")
    files = _Counts(help_text="Your files' current versions by state of their text recognition.")


class TextRecognitionInput(serializers.Serializer):
    enabled = StrictBooleanField(required=False)
    languages = serializers.ListField(
        child=StrictCharField(max_length=16, pattern=OCR_LANGUAGE.pattern, pattern_message="A Tesseract language."),
        required=False,
        min_length=1,
        max_length=ocr.MAX_LANGUAGES,
        help_text="Tesseract's names (eng, deu, chi_sim...), among `installed`.",
    )


class TextRecognitionApi(APIView):
    @extend_schema(responses={200: TextRecognitionOutput, 401: ErrorSerializer}, tags=["vault"])
    def get(self, request):
        """Text recognition (OCR) of your images and scanned PDFs: on or off, its languages, and how many files
        wait, were read, failed or were skipped. Needs no unlocked vault."""
        keys = vault_keys_if_unlocked(request)
        if keys is not None:
            ocr.resume_for(request.user, keys)
        return Response(ocr.user_settings(request.user))

    @extend_schema(
        request=TextRecognitionInput,
        responses={200: TextRecognitionOutput, 400: ErrorSerializer, 401: ErrorSerializer},
        tags=["vault"],
    )
    def patch(self, request):
        """Turn text recognition on or off, or choose its languages. Turned on (or given languages) with your vault
        unlocked, the images and PDFs not read yet are queued."""
        data = validated(TextRecognitionInput, request.data)
        result = ocr.settings_update(
            user=request.user,
            keys=vault_keys_if_unlocked(request),
            enabled=data.get("enabled"),
            languages=data.get("languages"),
            meta=RequestMeta.from_request(request),
        )
        return Response(result)
