"""The read-only API (/api/v1/): only published editions, from Edition.content;
filters, pagination and search; a 400 with a reason for every bad parameter;
conditional GET; throttling; and an OpenAPI description that matches the URLs."""

import datetime
import json
import re

import jsonschema
import pytest
import reversion
from django.urls import resolve
from django.utils import timezone
from django.utils.http import http_date

from monographs import services, workflow
from monographs.api.urls import api_patterns
from monographs.models import DrugClass, Edition, Section
from monographs.services import product_upsert

from .factories import make_entry, one_product, publish

API = "/api/v1"


pytestmark = pytest.mark.usefixtures("empty_cache")


@pytest.fixture
def formulary(published_lenalidomide, editor, reviewer):
    """Lenalidomide and metformin published; a never-published draft; a withdrawn entry."""
    metformin = publish(
        make_entry(
            "Metformin",
            drug_class="Biguanide",
            products=[one_product("Metformin", status="general", legal="p1s3", registration="HK-11111")],
        ),
        editor=editor,
        reviewer=reviewer,
    )
    draft = make_entry(
        "Secretamab",
        drug_class="Biguanide",
        products=[one_product("Secretamab", status="general", legal="p1s3", registration="HK-22222")],
    )
    withdrawn = publish(
        make_entry(
            "Withdrawnol",
            drug_class="Biguanide",
            products=[one_product("Withdrawnol", status="general", legal="p1s3", registration="HK-33333")],
        ),
        editor=editor,
        reviewer=reviewer,
    )
    workflow.withdraw(entry=withdrawn, user=reviewer, comment="Safety alert")
    return {"lenalidomide": published_lenalidomide, "metformin": metformin, "draft": draft, "withdrawn": withdrawn}


def get(client, path, **headers):
    response = client.get(path, headers=headers)
    return response, (response.json() if response.content else None)


def names(body):
    return [r["generic_name"] for r in body["results"]]


# Only published content.


def test_list_shows_published_entries_only(client, formulary):
    response, body = get(client, f"{API}/entries/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert names(body) == ["Lenalidomide", "Metformin"]
    assert body["count"] == 2


def test_never_published_and_withdrawn_entries_are_404(client, formulary):
    for entry in (formulary["draft"], formulary["withdrawn"]):
        for key in (entry.pk, entry.slug):
            response, body = get(client, f"{API}/entries/{key}/")
            assert response.status_code == 404
            assert body["error"] == "not_found"
    for q in ("Secretamab", "Withdrawnol"):
        assert get(client, f"{API}/search/?q={q}")[1]["count"] == 0
        assert get(client, f"{API}/entries/?q={q}")[1]["count"] == 0


def test_a_draft_edit_of_a_published_entry_is_not_served(client, formulary, editor):
    entry = formulary["lenalidomide"]
    section = Section.objects.filter(entry=entry).first()
    with reversion.create_revision():
        section.body = "UNREVIEWED DRAFT TEXT"
        section.save()
        entry.drug_class = DrugClass.objects.create(name="Draft class", slug="draft-class")
        entry.save()
        reversion.set_comment("draft edit")
    product_upsert(
        entry=entry,
        name="Draft brand",
        certificate_holder="Nobody",
        kind="brand",
        legal_classification="p1",
        sale_requirement="prescription",
        formulary_status="general",
        reason="draft",
    )
    entry.state.refresh_from_db()
    assert entry.state.state == "draft"

    _, body = get(client, f"{API}/entries/{entry.slug}/")
    text = json.dumps(body)
    assert "UNREVIEWED DRAFT TEXT" not in text and "Draft brand" not in text and "Draft class" not in text
    assert body["drug_class"] == "Immunomodulatory imide drug"
    assert get(client, f"{API}/entries/?drug_class=Draft%20class")[1]["count"] == 0


def test_detail_is_the_approved_snapshot_with_stable_ids(client, formulary):
    entry = formulary["lenalidomide"]
    edition = Edition.objects.live().get(entry=entry)
    response, body = get(client, f"{API}/entries/{entry.pk}/")
    assert response.status_code == 200
    assert get(client, f"{API}/entries/lenalidomide/")[1] == body
    assert body["id"] == entry.pk and body["slug"] == "lenalidomide" and body["edition"] == 1
    assert body["atc_code"] == "L04AX04"
    assert "CC-5013" in body["synonyms"]
    assert body["formulary_statuses"] == ["sfi_safety_net", "special"]
    assert body["legal_classifications"] == ["p1s1s3"]
    assert [s["id"] for s in body["sections"]] == [s["id"] for s in edition.content["sections"]]
    assert [s["kind"] for s in body["sections"]][:2] == ["overview", "drug_class"]
    assert len(body["products"]) == 3
    strengths = [s for p in body["products"] for s in p["strengths"]]
    assert len(strengths) == 18
    assert {s["id"] for s in strengths} == {s["id"] for p in edition.content["products"] for s in p["strengths"]}
    revlimid = next(p for p in body["products"] if p["name"] == "Revlimid")
    assert revlimid["formulary_status_label"] == "Self-financed item with safety net"
    first = revlimid["strengths"][0]
    assert (first["amount"], first["unit"], first["strength"], first["registration_number"]) == (
        "2.5",
        "mg",
        "2.5 mg",
        "HK-90101",
    )
    for record in [body, *body["sections"], *body["products"], *strengths]:
        assert "updated_at" in record
    assert body["updated_at"] == first["updated_at"]
    # When it went live (here, at approval: the same transaction, a moment later).
    assert datetime.datetime.fromisoformat(body["updated_at"]) == edition.live_state.live_since
    assert body["url"].endswith(f"{API}/entries/{entry.pk}/")
    assert body["html_url"].endswith("/entries/lenalidomide/")


# Filters, search and pagination.


def test_filters(client, formulary):
    def listed(query):
        response, body = get(client, f"{API}/entries/?{query}")
        assert response.status_code == 200, body
        return names(body)

    assert listed("drug_class=biguanide") == ["Metformin"]
    assert listed("drug_class=Immunomodulatory%20imide%20drug") == ["Lenalidomide"]
    assert listed("formulary_status=special") == ["Lenalidomide"]
    assert listed("formulary_status=sfi_safety_net") == ["Lenalidomide"]
    assert listed("formulary_status=general") == ["Metformin"]
    assert listed("formulary_status=sfi") == []
    assert listed("legal_classification=p1s3") == ["Metformin"]
    assert listed("legal_classification=p1s1s3&formulary_status=general") == []
    assert listed("q=cc-5013") == ["Lenalidomide"]
    assert listed("q=L04AX04") == ["Lenalidomide"]
    assert listed("q=來那度胺") == ["Lenalidomide"]
    assert listed("q=revlim") == ["Lenalidomide"], "brand names find the entry"
    assert listed("q=(Sandoz)") == ["Lenalidomide"], "regex characters are taken literally"
    assert listed("q=Sandoz%20Hong%20Kong") == [], "certificate holders are not names"
    assert listed("q=.*") == []


def test_updated_since_selects_by_the_time_it_went_live(client, formulary):
    metformin_edition = Edition.objects.live().get(entry=formulary["metformin"])
    boundary = metformin_edition.live_state.live_since
    since = boundary.isoformat().replace("+", "%2B")
    got = names(get(client, f"{API}/entries/?updated_since={since}")[1])
    assert "Metformin" in got
    assert all(Edition.objects.live().get(generic_name=n).live_state.live_since >= boundary for n in got)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert get(client, f"{API}/entries/?updated_since={tomorrow}")[1]["count"] == 0
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert get(client, f"{API}/entries/?updated_since={yesterday}")[1]["count"] == 2
    # An unencoded "+08:00" arrives as a space; it is still understood.
    later = (timezone.now() + datetime.timedelta(hours=1)).astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    assert get(client, f"{API}/entries/?updated_since={later.isoformat()}")[1]["count"] == 0


def test_pagination(client, formulary):
    response, body = get(client, f"{API}/entries/?page_size=1")
    assert (body["count"], body["num_pages"], body["page"], body["page_size"]) == (2, 2, 1, 1)
    assert names(body) == ["Lenalidomide"]
    assert body["previous"] is None
    response, body2 = get(client, body["next"].replace("http://testserver", ""))
    assert names(body2) == ["Metformin"]
    assert body2["next"] is None
    assert "page_size=1" in body2["previous"]


def test_search_endpoint(client, formulary):
    response, body = get(client, f"{API}/search/?q=lenalid")
    assert response.status_code == 200
    assert names(body) == ["Lenalidomide"]
    assert names(get(client, f"{API}/search/?q=immunomodulatory")[1]) == ["Lenalidomide"]
    assert get(client, f"{API}/search/?q=nothing-like-this")[1]["count"] == 0


# Bad parameters: 400 with a reason, never a 500.


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("entries/?updated_since=yesterday", "updated_since"),
        ("entries/?updated_since=2026-13-45", "updated_since"),
        ("entries/?updated_since=2026-02-30T25:00:00", "updated_since"),
        # Offsets Python accepts but PostgreSQL does not (a 500 for anyone).
        ("entries/?updated_since=2026-01-01T00:00:00%2B16:00", "updated_since"),
        ("entries/?updated_since=2026-01-01T00:00:00-23:59", "updated_since"),
        ("entries/?updated_since=2026-01-01T00:00:00 16:00", "updated_since"),
        ("entries/?page=0", "page"),
        ("entries/?page=abc", "page"),
        ("entries/?page=-1", "page"),
        ("entries/?page=%C2%B2", "page"),
        ("entries/?page=99999999999999999999999", "page"),
        ("entries/?page_size=0", "page_size"),
        ("entries/?page_size=100000", "page_size"),
        ("entries/?formulary_status=cheap", "formulary_status"),
        ("entries/?legal_classification=p9", "legal_classification"),
        ("entries/?drug_class=", "drug_class"),
        ("entries/?q=", "q"),
        ("entries/?q=" + "x" * 300, "q"),
        ("entries/?formulary-status=special", "formulary-status"),
        ("entries/?page=1&page=2", "page"),
        ("search/", "q"),
        ("search/?q=%20", "q"),
        ("search/?q=a&drug_class=x", "drug_class"),
        ("entries/lenalidomide/?expand=all", "expand"),
    ],
)
def test_bad_parameters_are_400_with_a_reason(client, formulary, query, parameter):
    response, body = get(client, f"{API}/{query}")
    assert response.status_code == 400, body
    assert response["Content-Type"] == "application/json"
    assert body["error"] == "bad_parameter"
    assert body["parameter"] == parameter
    assert len(body["detail"]) > 10


def test_unknown_entry_is_404_json(client, db):
    response, body = get(client, f"{API}/entries/no-such-drug/")
    assert response.status_code == 404
    assert body == {"error": "not_found", "detail": "No published entry with id or slug 'no-such-drug'."}
    for key in ("999999", "99999999999999999999999", "%C2%B2", "-1", "1.0"):
        assert get(client, f"{API}/entries/{key}/")[0].status_code == 404


def test_the_api_is_read_only(client, formulary):
    for method in (client.post, client.put, client.patch, client.delete):
        response = method(f"{API}/entries/lenalidomide/", data={}, content_type="application/json")
        assert response.status_code == 405
        assert response.json()["error"] == "method_not_allowed"


# Conditional GET and caching headers.


def test_conditional_get_returns_304_until_something_changes(client, formulary, reviewer):
    for path in (f"{API}/entries/", f"{API}/entries/lenalidomide/", f"{API}/search/?q=e"):
        response = client.get(path)
        etag, last_modified = response["ETag"], response["Last-Modified"]
        assert response["Cache-Control"] == "public, no-cache"
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again["ETag"] == etag
        assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200

    list_etag = client.get(f"{API}/entries/")["ETag"]
    detail_etag = client.get(f"{API}/entries/lenalidomide/")["ETag"]
    later = http_date((timezone.now() + datetime.timedelta(seconds=5)).timestamp())
    workflow.withdraw(entry=formulary["metformin"], user=reviewer, comment="Gone")
    response = client.get(f"{API}/entries/", headers={"If-None-Match": list_etag})
    assert response.status_code == 200
    assert names(response.json()) == ["Lenalidomide"]
    # Withdrawal counts as a change for Last-Modified too.
    modified = client.get(
        f"{API}/entries/", headers={"If-Modified-Since": http_date(timezone.now().timestamp() - 3600)}
    )
    assert modified.status_code == 200
    assert client.get(f"{API}/entries/lenalidomide/", headers={"If-None-Match": detail_etag}).status_code == 304
    assert client.get(f"{API}/entries/lenalidomide/", headers={"If-Modified-Since": later}).status_code == 304


def test_the_api_and_fhir_follow_the_public_max_age_setting(client, formulary, settings):
    """One caching policy for pages and both APIs: an install that lets caches keep pages for N
    seconds lets them keep API answers as long, and no longer."""
    settings.FORMULARY_PUBLIC_MAX_AGE = 60

    for path in (f"{API}/entries/", f"{API}/entries/lenalidomide/", "/fhir/metadata"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == "public, max-age=60", path
        again = client.get(path, headers={"If-None-Match": response["ETag"]})
        assert again.status_code == 304 and again["Cache-Control"] == "public, max-age=60", path


def test_etag_differs_per_query_page_and_language(client, formulary):
    etags = {client.get(f"{API}/entries/{q}")["ETag"] for q in ("", "?page_size=1", "?page_size=1&page=2", "?q=met")}
    assert len(etags) == 4
    english = client.get(f"{API}/entries/lenalidomide/", headers={"Accept-Language": "en"})
    chinese = client.get(f"{API}/entries/lenalidomide/", headers={"Accept-Language": "zh-hant"})
    assert english["ETag"] != chinese["ETag"]
    assert "Accept-Language" in chinese["Vary"]


# Throttling.


def test_throttling_is_configurable_and_answers_429_json(client, formulary, settings):
    settings.FORMULARY_API_THROTTLE_RATE = "3/minute"
    assert [client.get(f"{API}/entries/").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(f"{API}/entries/lenalidomide/")
    assert response.status_code == 429
    assert response.json()["error"] == "throttled"
    assert int(response["Retry-After"]) > 0
    settings.FORMULARY_API_THROTTLE_RATE = ""
    assert client.get(f"{API}/entries/").status_code == 200


def test_default_rate_is_high_enough_for_a_busy_client(settings):
    from monographs.throttling import ClientRateThrottle

    throttle = ClientRateThrottle()
    assert throttle.num_requests / throttle.duration >= 5


# OpenAPI description.


@pytest.fixture
def schema(client, db):
    response = client.get(f"{API}/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _openapi_path(route):
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_schema_is_openapi_3_and_lists_every_api_url(schema):
    assert schema["openapi"].startswith("3.")
    served = {f"{API}{_openapi_path(p.pattern._route)}" for p in api_patterns[0]}
    expected = {p for p in served if not p.endswith(("/schema/", "/docs/"))}
    assert expected == {f"{API}/entries/", f"{API}/entries/{{key}}/", f"{API}/search/"}
    assert expected <= set(schema["paths"]), expected - set(schema["paths"])


def test_every_schema_path_resolves_to_the_view_it_describes(schema, formulary):
    for path, operations in schema["paths"].items():
        concrete = path.replace("{key}", "lenalidomide")
        match = resolve(concrete)
        assert match.namespace == "api", path
        assert set(operations) <= {"get", "parameters"}, f"{path} is read-only"
    assert {op["operationId"] for ops in schema["paths"].values() for op in ops.values()} >= {
        "entries_list",
        "entries_retrieve",
        "entries_search",
    }


def test_documented_parameters_are_the_accepted_ones(schema, client, formulary):
    """A parameter in the schema is accepted; one outside it is refused."""
    for path, operations in schema["paths"].items():
        if path.endswith("/schema/"):
            continue
        documented = {p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"}
        concrete = path.replace("{key}", "lenalidomide")
        for name in documented:
            value = {
                "page": "1",
                "page_size": "5",
                "updated_since": "2020-01-01",
                "formulary_status": "special",
                "legal_classification": "p1s1s3",
            }.get(name, "lenalidomide")
            if name == "q":
                value = "len"
            response = client.get(concrete, {name: value, **({"q": "len"} if path.endswith("/search/") else {})})
            assert response.status_code == 200, (path, name, response.content)
        assert client.get(concrete, {"undocumented": "1"}).status_code == 400


def _as_json_schema(node, components):
    """OpenAPI 3.0 schema objects to JSON Schema: resolve $ref, nullable, and forbid undocumented fields."""
    if isinstance(node, list):
        return [_as_json_schema(n, components) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _as_json_schema(components[node["$ref"].rsplit("/", 1)[-1]], components)
    out = {k: _as_json_schema(v, components) for k, v in node.items() if k not in ("nullable", "readOnly", "writeOnly")}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "allOf" in out or "oneOf" in out:
            out = {"anyOf": [out, {"type": "null"}]}
    if out.get("type") == "object" and "properties" in out:
        out["additionalProperties"] = False
    return out


def _response_schema(schema, path, status="200"):
    media = schema["paths"][path]["get"]["responses"][status]["content"]["application/json"]
    return _as_json_schema(media["schema"], schema["components"]["schemas"])


def test_responses_match_the_schema_exactly(schema, client, formulary):
    """Every field served is documented with its type, and every documented required field is served."""
    checks = [
        (f"{API}/entries/", f"{API}/entries/", "200"),
        (f"{API}/entries/?page_size=1", f"{API}/entries/", "200"),
        (f"{API}/search/?q=len", f"{API}/search/", "200"),
        (f"{API}/entries/lenalidomide/", f"{API}/entries/{{key}}/", "200"),
        (f"{API}/entries/?page_size=0", f"{API}/entries/", "400"),
        # Any page number is valid by the schema; one after the last has nothing: 404.
        (f"{API}/entries/?page=9", f"{API}/entries/", "404"),
        (f"{API}/entries/nothing/", f"{API}/entries/{{key}}/", "404"),
    ]
    for url, path, status in checks:
        response = client.get(url)
        assert str(response.status_code) == status
        jsonschema.validate(response.json(), _response_schema(schema, path, status))


def test_schema_generation_has_no_warnings(tmp_path, db):
    """drf-spectacular warns when it has to guess; a guess would make the description untrue."""
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"))


def test_search_endpoint_tolerates_typos_and_ranks_names_first(client, formulary):
    # The API search is the public search: a misspelt brand still finds its generic entry.
    response, body = get(client, f"{API}/search/?q=revlimd")
    assert response.status_code == 200
    assert names(body)[:1] == ["Lenalidomide"]


def test_real_utc_offsets_are_accepted(client, formulary):
    for offset in ("%2B14:00", "-12:00", "Z", "%2B08:00", "%2B05:45"):
        response, body = get(client, f"{API}/entries/?updated_since=2020-01-01T00:00:00{offset}")
        assert response.status_code == 200, body
        assert body["count"] == 2


def test_entries_carry_chinese_name_safety_flags_and_boxed_warning(client, formulary):
    response, body = get(client, f"{API}/entries/lenalidomide/")
    assert response.status_code == 200
    assert body["chinese_name"] == "來那度胺"
    assert [f["code"] for f in body["safety_flags"]] == ["pregnancy", "pregnancy_prevention", "cytotoxic"]
    assert body["safety_flags"][0]["label"] == "Harmful in pregnancy"
    assert "pregnancy" in body["boxed_warning"]
    listed = {r["generic_name"]: r for r in get(client, f"{API}/entries/")[1]["results"]}
    assert listed["Metformin"]["safety_flags"] == [] and listed["Metformin"]["boxed_warning"] == ""


def test_a_dangerous_drug_product_flags_its_entry(client, published_lenalidomide, editor, reviewer):
    from .factories import make_published

    make_published(
        "Morphine",
        editor=editor,
        reviewer=reviewer,
        products=[one_product("Morphine", legal="dangerous_drug", registration="HK-55555")],
    )
    body = get(client, f"{API}/entries/morphine/")[1]
    assert [f["code"] for f in body["safety_flags"]] == ["dangerous_drug"]


def test_chinese_content_is_language_tagged_beside_the_english(
    client, published_bilingual_lenalidomide, editor2, reviewer2
):
    entry = published_bilingual_lenalidomide
    interactions = entry.sections.get(kind="interactions")
    services.section_update(section=interactions, user=editor2, reason="New", body=interactions.body + " More.")
    publish(entry, editor=editor2, reviewer=reviewer2, accept_stale_translations=True)
    body = get(client, f"{API}/entries/{entry.pk}/")[1]
    # The v1 fields keep their meaning: English.
    assert body["boxed_warning"].startswith("Do not use in pregnancy")
    chinese = body["translations"]["zh-Hant"]
    assert chinese["name"] == "來那度胺" and chinese["synonyms"] == ["雷利竇邁"]
    assert chinese["boxed_warning"].startswith("懷孕期間不可使用")
    assert chinese["boxed_warning_status"] == "current"
    sections = {s["kind"]: s for s in body["sections"]}
    assert sections["contraindications"]["body"].startswith("Pregnancy strictly precludes")
    contraindications = sections["contraindications"]["translations"]["zh-Hant"]
    assert contraindications["body"].startswith("懷孕期間絕對不可使用本藥")
    assert (contraindications["title"], contraindications["status"]) == ("禁忌症", "current")
    assert sections["interactions"]["translations"]["zh-Hant"]["status"] == "stale"
    assert sections["interactions"]["translations"]["zh-Hant"]["english_updated_at"]
    assert sections["mechanism"]["translations"]["zh-Hant"] | {"english_updated_at": None} == {
        "heading": "",
        "title": "作用原理",
        "body": "",
        "status": "missing",
        "english_updated_at": None,
    }
    revlimid = next(p for p in body["products"] if p["name"] == "Revlimid")
    assert revlimid["translations"] == {"zh-Hant": {"name": "瑞復美"}}
    listed = next(r for r in get(client, f"{API}/entries/")[1]["results"] if r["id"] == entry.pk)
    assert listed["translations"]["zh-Hant"]["name"] == "來那度胺"


CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def test_control_characters_of_a_published_edition_are_left_out_of_the_api(client, edition_predating_the_text_rule):
    entry = edition_predating_the_text_rule
    for path in [f"{API}/entries/{entry.pk}/", f"{API}/entries/", f"{API}/search/?q=amoxicillin"]:
        response, body = get(client, path)
        assert response.status_code == 200, path
        assert not [text for text in strings_in(body) if CONTROLS.search(text)], path
    _response, body = get(client, f"{API}/entries/{entry.pk}/")
    assert body["generic_name"] == "Amoxicillin"
    assert body["sections"][0]["title"] == "Dosing(from the PDF)"
    assert body["sections"][0]["body"] == "Take with food twice daily.\n\nSwallow whole."
