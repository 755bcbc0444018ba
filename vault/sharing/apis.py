"""The sharing API (API.md "Sharing"): shares I made, shares made to me. Thin views over ``services``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from locker import ratelimit
from locker.http import RequestMeta
from locker.serializers import ErrorSerializer, validated
from vault.files.apis import ERRORS, vault_keys
from vault.models import Link, Share
from vault.sharing import links, services
from vault.sharing.serializers import (
    LinkCreatedSerializer,
    LinkInput,
    LinkSerializer,
    ShareInput,
    ShareSerializer,
    ShareUpdateInput,
)


class ShareListCreateApi(GenericAPIView):
    serializer_class = ShareSerializer
    queryset = Share.objects.none()  # for the schema; reads go through vault.sharing.services

    @extend_schema(responses={200: ShareSerializer(many=True), **ERRORS}, tags=["sharing"])
    def get(self, request):
        """The shares you made, newest first."""
        keys = vault_keys(request)
        page = self.paginate_queryset(services.shares_made(user=request.user))
        return self.get_paginated_response(ShareSerializer(page, many=True, context={"keys": keys}).data)

    @extend_schema(
        request=ShareInput,
        responses={201: ShareSerializer, 409: ErrorSerializer, 429: ErrorSerializer, **ERRORS},
        tags=["sharing"],
        description="Share a folder (with everything in it, now and later), a file or a note with the account of "
        "that exact username. 400 `unknown_user` when no account has it; 409 `already_shared` when that account "
        "has a share of the item already.",
    )
    def post(self, request):
        ratelimit.enforce(request, group="share_user", value=str(request.user.pk))
        data = validated(ShareInput, request.data)
        keys = vault_keys(request)
        share = services.share_create(
            user=request.user,
            keys=keys,
            item_id=data["item"],
            username=data["username"],
            permission=data["permission"],
            meta=RequestMeta.from_request(request),
        )
        return Response(ShareSerializer(share, context={"keys": keys}).data, status=status.HTTP_201_CREATED)


class ShareDetailApi(APIView):
    @extend_schema(responses={200: ShareSerializer, **ERRORS}, tags=["sharing"])
    def get(self, request, pk):
        keys = vault_keys(request)
        share = services.share_get(user=request.user, share_id=pk)
        return Response(ShareSerializer(share, context={"keys": keys}).data)

    @extend_schema(request=ShareUpdateInput, responses={200: ShareSerializer, **ERRORS}, tags=["sharing"])
    def patch(self, request, pk):
        """Change the permission of a share you made."""
        data = validated(ShareUpdateInput, request.data)
        keys = vault_keys(request)
        share = services.share_update(
            user=request.user, share_id=pk, permission=data["permission"], meta=RequestMeta.from_request(request)
        )
        return Response(ShareSerializer(share, context={"keys": keys}).data)

    @extend_schema(
        responses={204: None, **ERRORS},
        tags=["sharing"],
        description="The owner revokes the share; the recipient leaves it. Access ends at once.",
    )
    def delete(self, request, pk):
        meta = RequestMeta.from_request(request)
        share = services.share_get(user=request.user, share_id=pk)
        if share.owner_id == request.user.pk:
            services.share_revoke(user=request.user, keys=vault_keys(request), share_id=pk, meta=meta)
        else:
            services.share_leave(user=request.user, share_id=pk, meta=meta)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SharedWithMeApi(GenericAPIView):
    serializer_class = ShareSerializer
    queryset = Share.objects.none()

    @extend_schema(responses={200: ShareSerializer(many=True), **ERRORS}, tags=["sharing"])
    def get(self, request):
        """What others share with you, newest first: open a shared folder with ``/api/v1/folders/?parent=<id>``."""
        keys = vault_keys(request)
        page = self.paginate_queryset(services.shares_received(user=request.user))
        return self.get_paginated_response(ShareSerializer(page, many=True, context={"keys": keys}).data)


class LinkListCreateApi(GenericAPIView):
    serializer_class = LinkSerializer
    queryset = Link.objects.none()

    @extend_schema(responses={200: LinkSerializer(many=True), **ERRORS}, tags=["sharing"])
    def get(self, request):
        """Your public links with their use counts (their URLs were shown once, at creation)."""
        keys = vault_keys(request)
        page = self.paginate_queryset(links.links_made(user=request.user))
        return self.get_paginated_response(LinkSerializer(page, many=True, context={"keys": keys}).data)

    @extend_schema(
        request=LinkInput,
        responses={201: LinkCreatedSerializer, 429: ErrorSerializer, **ERRORS},
        tags=["sharing"],
        description="A public link to a folder or file of yours. The answer's `url` holds the link's secret and is "
        "never shown again: the server keeps only a hash of it.",
    )
    def post(self, request):
        ratelimit.enforce(request, group="share_user", value=str(request.user.pk))
        data = validated(LinkInput, request.data)
        keys = vault_keys(request)
        link, token = links.link_create(
            user=request.user,
            keys=keys,
            item_id=data["item"],
            expires_at=data["expires_at"],
            password=data.get("password", ""),
            max_downloads=data.get("max_downloads"),
            meta=RequestMeta.from_request(request),
        )
        body = LinkSerializer(link, context={"keys": keys}).data
        body["url"] = request.build_absolute_uri(f"/s/{token}")
        return Response(body, status=status.HTTP_201_CREATED)


class LinkDetailApi(APIView):
    @extend_schema(responses={204: None, **ERRORS}, tags=["sharing"], description="Turn the link off, at once.")
    def delete(self, request, pk):
        links.link_revoke(user=request.user, link_id=pk, meta=RequestMeta.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
