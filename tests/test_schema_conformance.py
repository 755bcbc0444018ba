"""The schema and the server agree (found with schemathesis --checks all; see schemathesis.toml)."""

import json

import pytest

pytestmark = pytest.mark.django_db


def test_a_repeated_page_size_or_page_is_refused(auth_client):
    for query in ("page_size=1&page_size=2", "page=1&page=2"):
        response = auth_client.get(f"/api/v1/files/?{query}")
        assert response.status_code == 400 and response.json()["code"] == "validation_error", query


def test_a_form_body_spells_null_as_json_does(auth_client):
    created = auth_client.post("/api/v1/folders/", {"name": "top", "parent": "null"}, format="multipart")
    assert created.status_code == 201 and created.json()["parent"] is None
    empty = auth_client.post("/api/v1/folders/", {"name": "x", "parent": ""}, format="multipart")
    assert empty.status_code == 400


def test_an_empty_parent_query_is_refused_not_the_top_level(auth_client):
    assert auth_client.get("/api/v1/folders/?parent=").status_code == 400
    assert auth_client.get("/api/v1/folders/").status_code == 200


def test_schema_patterns_are_ones_every_regex_engine_reads(client):
    text = client.get("/api/schema/?format=json").content.decode()
    assert "\\\\U0" not in text  # Python-only escapes of characters beyond U+FFFF
    schema = json.loads(text)
    queries = [
        op
        for path in schema["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and any(p.get("in") == "query" for p in op.get("parameters", []))
    ]
    assert queries and all("414" in op["responses"] for op in queries)


def test_schema_patterns_stay_readable_when_a_fuzzer_folds_lengths_into_them(client):
    """schemathesis merges ``minLength``/``maxLength`` into a pattern's quantifiers and writes the result back with
    Python's escapes; a pattern it can fold that holds characters beyond U+FFFF then fails its own check."""
    fold = pytest.importorskip("schemathesis.core.jsonschema.patterns").update_quantifier
    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.append(fold(node["pattern"], node.get("minLength"), node.get("maxLength")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(client.get("/api/schema/?format=json").json())
    assert found and not [pattern for pattern in found if "\\U" in pattern]


def test_schema_name_limits_are_what_the_server_takes(auth_client, client):
    schema = client.get("/api/schema/?format=json").json()
    name = schema["components"]["schemas"]["FolderCreateInputRequest"]["properties"]["name"]
    longest = "n" * name["maxLength"]
    assert auth_client.post("/api/v1/folders/", {"name": longest}, format="json").status_code == 201
    too_long = auth_client.post("/api/v1/folders/", {"name": longest + "n"}, format="json")
    assert too_long.status_code == 400


def test_a_form_body_that_is_not_pairs_is_refused(auth_client):
    response = auth_client.generic("POST", "/api/v1/chats/", "true", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    fine = auth_client.generic("POST", "/api/v1/chats/", "title=Hi", content_type="application/x-www-form-urlencoded")
    assert fine.status_code == 201 and fine.json()["title"] == "Hi"


def test_a_patch_body_says_which_fields_it_requires(client):
    schema = client.get("/api/schema/?format=json").json()
    body = schema["paths"]["/api/v1/messages/{id}/"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][name]["required"] == ["status"]


def test_uploads_document_their_name_conflict(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "409" in schema["paths"]["/api/v1/files/"]["post"]["responses"]


def test_a_multipart_body_without_parts_is_refused(auth_client):
    body = b"--b\r\nnot a part--b--\r\n"
    response = auth_client.generic("PATCH", "/api/v1/me", body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    chat = auth_client.generic("POST", "/api/v1/chats/", body, content_type="multipart/form-data; boundary=b")
    assert chat.status_code == 400


def test_a_form_body_gives_a_single_value_field_once(auth_client):
    """``name=a&name=b`` is a mistake, not the last name: nothing changes and the field says why."""
    folder = auth_client.post("/api/v1/folders/", {"name": "first"}, format="json").json()
    form = "application/x-www-form-urlencoded"
    response = auth_client.generic("PATCH", f"/api/v1/folders/{folder['id']}/", "name=a&name=b", content_type=form)
    assert response.status_code == 400 and "name" in response.json()["errors"]
    assert auth_client.get(f"/api/v1/folders/{folder['id']}/").json()["name"] == "first"
    chat = auth_client.generic("POST", "/api/v1/chats/", "title=a&title=b", content_type=form)
    assert chat.status_code == 400 and "title" in chat.json()["errors"]
    tags = auth_client.generic("PATCH", f"/api/v1/folders/{folder['id']}/", "tags=a&tags=b", content_type=form)
    assert tags.status_code == 200 and sorted(tags.json()["tags"]) == ["a", "b"]  # a list field takes repeats
    chat_id = auth_client.post("/api/v1/chats/", {"title": "c"}, format="json").json()["id"]
    message = auth_client.generic(
        "POST", f"/api/v1/chats/{chat_id}/messages/", "content=a&content=b", content_type=form
    )
    assert message.status_code == 400 and "content" in message.json()["errors"]
    assert auth_client.get(f"/api/v1/chats/{chat_id}/messages/").json()["results"] == []


def test_a_form_body_gives_no_empty_value_for_a_field_that_is_not_blank_text(auth_client):
    """``on_conflict=`` is not "the default": the schema's enum has no empty value, so the server refuses it."""
    created = auth_client.post("/api/v1/folders/", {"name": "n", "on_conflict": ""}, format="multipart")
    assert created.status_code == 400 and "on_conflict" in created.json()["errors"]
    assert auth_client.get("/api/v1/folders/").json()["results"] == []
    chat_id = auth_client.post("/api/v1/chats/", {"title": "c"}, format="json").json()["id"]
    blank_text = auth_client.post(f"/api/v1/chats/{chat_id}/messages/", {"content": ""}, format="multipart")
    assert blank_text.status_code == 400 and blank_text.json()["code"] == "empty_message"  # text may be blank


def test_the_schema_says_a_multipart_body_holds_a_part(client):
    """An empty multipart body is refused (400 ``parse_error``), so where the JSON twin may be ``{}`` the multipart
    schema asks for one property."""
    schema = client.get("/api/schema/?format=json").json()
    body = schema["paths"]["/api/v1/folders/{id}/"]["patch"]["requestBody"]["content"]
    form = body["multipart/form-data"]["schema"]
    assert form["minProperties"] == 1 and form["properties"]["tags"]["minItems"] == 1  # an empty list has no part
    assert "minProperties" not in body["application/json"]["schema"]


def test_the_schema_says_a_trimmed_text_field_needs_more_than_whitespace(client, auth_client):
    """DRF trims ``" "`` to ``""`` and refuses it as blank; the schema's pattern says the same."""
    import re

    schema = client.get("/api/schema/?format=json").json()
    pattern = schema["components"]["schemas"]["RefreshInputRequest"]["properties"]["refresh"]["pattern"]
    assert not re.search(pattern, "  \t") and re.search(pattern, " token ")
    refused = auth_client.post("/api/v1/auth/logout", {"refresh": " "}, format="json")
    assert refused.status_code == 400 and "refresh" in refused.json()["errors"]


def test_a_blank_text_field_is_valid_by_the_schema_as_the_server_takes_it(client, auth_client):
    """``title: ""`` matches both "no NUL" and "empty": the schema offers them with anyOf, not oneOf."""
    schema = client.get("/api/schema/?format=json").json()
    title = schema["components"]["schemas"]["ChatInputRequest"]["properties"]["title"]
    assert "oneOf" not in title and {"type": "string", "maxLength": 0} in title["anyOf"]
    assert auth_client.post("/api/v1/chats/", {"title": ""}, format="multipart").status_code == 201


def test_a_number_in_other_digits_is_a_400_not_a_500(auth_client):
    """``"²".isdigit()`` is true and ``int("²")`` fails: every whole-number parameter reads ASCII digits only."""
    for path in ("/api/v1/recent/?limit=%C2%B2", "/api/v1/changes?limit=%C2%B2", "/api/v1/changes?limit=%D9%A1"):
        response = auth_client.get(path)
        assert response.status_code == 400 and response.json()["errors"]["limit"], path
    stream = auth_client.get("/api/v1/notifications/stream?after=%C2%B2", HTTP_ACCEPT="text/event-stream")
    assert stream.status_code == 400 and stream.json()["errors"]["after"]
    tus = auth_client.post(
        "/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="\u00b2", HTTP_UPLOAD_METADATA="name eA=="
    )
    assert tus.status_code == 400 and tus.json()["code"] == "invalid_header"
    from locker.http import whole_number

    assert [whole_number(v) for v in ("12", "0", "", None, "²", "١٢", "-1", " 1")] == [12, 0, None, None] + [None] * 4


def test_the_schema_states_the_limits_of_whole_number_parameters(client, auth_client):
    schema = client.get("/api/schema/?format=json").json()

    def parameter(path, name):
        return next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)["schema"]

    assert parameter("/api/v1/recent/", "limit") == {"type": "integer", "minimum": 1, "maximum": 100}
    changes = parameter("/api/v1/changes", "limit")
    assert changes["minimum"] == 1 and auth_client.get(f"/api/v1/changes?limit={changes['maximum']}").status_code == 200
    assert auth_client.get(f"/api/v1/changes?limit={changes['maximum'] + 1}").status_code == 400
    assert parameter("/api/v1/notifications/stream", "after")["minimum"] == 0


def test_a_boolean_field_takes_true_and_false_only(auth_client):
    """``background: 0`` is the wrong type by the schema: refused, nothing built (DRF's BooleanField took it)."""
    for value in ("0", "1", "yes", "on", ""):
        response = auth_client.post(
            "/api/v1/me/export", {"passphrase": "a long passphrase", "background": value}, format="multipart"
        )
        assert response.status_code == 400 and "background" in response.json()["errors"], value
    for body in ({"all_versions": 1}, {"background": "no"}):
        response = auth_client.post("/api/v1/me/export", {"passphrase": "a long passphrase", **body}, format="json")
        assert response.status_code == 400, body
    assert auth_client.get("/api/v1/me/exports/").json() == {"results": []}
    from locker.serializers import validated
    from vault.export.apis import ExportInput

    form = validated(ExportInput, {"passphrase": "a long passphrase", "background": "TRUE", "all_versions": "false"})
    assert form["background"] is True and form["all_versions"] is False


def test_an_archive_request_names_at_least_one_item_and_at_most_1000(client, auth_client):
    import uuid

    schema = client.get("/api/schema/?format=json").json()
    body = schema["components"]["schemas"]["ArchiveInputRequest"]
    assert body["properties"]["files"]["maxItems"] == body["properties"]["folders"]["maxItems"] == 1000
    assert [branch["required"] for branch in body["anyOf"]] == [["files"], ["folders"]]
    many = [str(uuid.uuid4()) for _ in range(1001)]
    assert "files" in auth_client.post("/api/v1/archive", {"files": many}, format="json").json()["errors"]
    together = auth_client.post("/api/v1/archive", {"files": many[:600], "folders": many[600:]}, format="json")
    assert together.status_code == 400 and "files" in together.json()["errors"]
    assert auth_client.post("/api/v1/archive", {"files": [], "folders": []}, format="json").status_code == 400
    # the most a page's form may name (1,000 ids and a name) is read, not refused for its field count
    form = auth_client.post("/api/v1/archive", {"files": many[:500], "folders": many[500:1000], "name": "z"})
    assert form.status_code == 404 and form.json()["code"] == "not_found"


def test_the_schema_documents_what_the_fuzzer_found_undocumented(client):
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in ("confirm", "disable", "backup-codes"):
        assert "404" in paths[f"/api/v1/auth/two-factor/{path}"]["post"]["responses"], path
    assert "409" in paths["/api/v1/auth/two-factor/enrol"]["post"]["responses"]
    exports = paths["/api/v1/me/exports/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    name = exports["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][name]["properties"]["results"]["type"] == "array"
    assert "202" in paths["/api/v1/me/export"]["post"]["responses"]
    event = paths["/api/v1/notifications/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"]
    assert event["required"] == ["data", "event"] and event["properties"]["event"]["enum"] == ["notification"]
    csv = paths["/api/v1/activity/"]["get"]["responses"]["200"]["content"]["text/csv"]["schema"]
    assert csv == {"type": "string"}


def test_an_upload_form_gives_its_folder_once(auth_client):
    """``folder=a&folder=b`` beside the file parts is a mistake, not the last folder: refused, nothing stored."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    first = auth_client.post("/api/v1/folders/", {"name": "a"}, format="json").json()["id"]
    second = auth_client.post("/api/v1/folders/", {"name": "b"}, format="json").json()["id"]
    for path in ("/api/v1/files/", "/api/upload/files"):
        body = {"file": SimpleUploadedFile("x.txt", b"x"), "folder": [first, second]}
        response = auth_client.post(path, body, format="multipart")
        assert response.status_code == 400 and "folder" in response.json()["errors"], path
    assert auth_client.get("/api/v1/files/?all=1").json()["results"] == []


def test_a_format_parameter_names_one_format(auth_client):
    """``?format=`` is one of the schema's enum: empty or given twice it is a 404, as an unknown one is (DRF would
    ignore an empty one and answer by the Accept header)."""
    for path in ("/api/v1/notifications/stream", "/api/v1/activity/"):
        for query in ("format=", "format=json&format=json", "format=xml"):
            response = auth_client.get(f"{path}?{query}")
            assert response.status_code == 404 and response.json()["code"] == "not_found", (path, query)
    assert auth_client.get("/api/v1/activity/?format=json").status_code == 200
    assert auth_client.get("/api/v1/activity/?format=csv").status_code == 200
