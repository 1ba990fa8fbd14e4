"""Standard clients against a live server, as a hospital's integration team runs them:
fhirclient reads the CapabilityStatement (`prepare()`), fhirpy pages a search to its end, and
schemathesis fuzzes the REST API from its live OpenAPI description with every check on.

The server is pytest-django's `live_server` (the app in a thread on a real socket, on the
test's PostgreSQL database); the rate limit is off so a fuzzing run is not throttled."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.cache import cache
from fhirclient import client as fhirclient
from fhirclient.models.medicationknowledge import MedicationKnowledge as ClientMedicationKnowledge
from fhirpy import SyncFHIRClient

from .deploy_processes import NGINX, Nginx, free_port
from .factories import make_entry, one_product, publish
from .test_fhir_standard import validated

pytestmark = pytest.mark.django_db(transaction=True)
needs_nginx = pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx is not installed (./run test installs it)")

# Examples per API operation: enough to reach every parameter, within about a minute in all.
FUZZ_EXAMPLES = 30


@pytest.fixture
def server(live_server, settings, editor, reviewer):
    """A live server with eight published entries (one bilingual) and no rate limit."""
    # The live server runs in this process, so the settings fixture reaches it.
    settings.FORMULARY_API_THROTTLE_RATE = "off"
    cache.clear()
    from .factories import make_bilingual_entry

    publish(make_bilingual_entry(editor), editor=editor, reviewer=reviewer, accept_stale_translations=True)
    for n in range(7):
        publish(
            make_entry(
                f"Testamine {n}",
                drug_class="Test class",
                atc_code=f"A0{n}AA01",
                products=[one_product(f"Testamine {n}", status="general", legal="p1s3", registration=f"HK-7000{n}")],
            ),
            editor=editor,
            reviewer=reviewer,
        )
    return live_server.url


def test_fhirclient_prepares_from_the_capability_statement_and_reads(server):
    smart = fhirclient.FHIRClient(settings={"app_id": "formulary-test", "api_base": f"{server}/fhir/"})
    assert smart.prepare() is True
    statement = smart.server.capabilityStatement
    assert statement.fhirVersion == "4.0.1"
    knowledge = next(r for r in statement.rest[0].resource if r.type == "MedicationKnowledge")
    assert "name" in {p.name for p in knowledge.searchParam}
    found = ClientMedicationKnowledge.where(struct={"name": "Testamine 3"}).perform_resources(smart.server)
    assert [r.code.text for r in found] == ["Testamine 3"]
    read = ClientMedicationKnowledge.read(found[0].id, smart.server)
    assert read.meta.versionId == "1"


def test_fhirpy_pages_a_search_to_the_end(server):
    client = SyncFHIRClient(f"{server}/fhir", extra_headers={"Accept": "application/fhir+json"})
    knowledge = client.resources("MedicationKnowledge").limit(3).fetch_all()
    assert len(knowledge) == 8 and len({r.id for r in knowledge}) == 8
    medications = client.resources("Medication").limit(3).fetch_all()
    total = client.resources("Medication").limit(0).fetch_raw()["total"]
    assert len(medications) == len({m.id for m in medications}) == total > 7
    # fhirpy's count() adds Aidbox's _totalMethod, which a strict FHIR server refuses unless asked
    # to be lenient (Prefer: handling=lenient, FHIR R4 3.1.1.4).
    lenient = SyncFHIRClient(f"{server}/fhir", extra_headers={"Prefer": "handling=lenient"})
    assert lenient.resources("MedicationKnowledge").search(name="Testamine").count() == 7
    by_number = client.resources("Medication").search(identifier="HK-70003").fetch()
    assert [m.serialize()["identifier"][0]["value"] for m in by_number] == ["HK-70003"]


def test_every_fhir_answer_of_a_crawl_validates_in_both_model_libraries(server):
    """Everything reachable from the searches: bundles, each resource, its versions and history."""
    session = requests.Session()
    session.headers["Accept"] = "application/fhir+json"
    seen = 0

    def get(url):
        nonlocal seen
        response = session.get(url, timeout=30)
        assert response.status_code == 200, (url, response.text[:300])
        body = response.json()
        validated(body)
        seen += 1
        return body

    get(f"{server}/fhir/metadata")
    for resource_type in ("MedicationKnowledge", "Medication"):
        url = f"{server}/fhir/{resource_type}?_count=5"
        while url:
            bundle = get(url)
            for entry in bundle.get("entry", []):
                get(entry["fullUrl"])
                get(f"{entry['fullUrl']}/_history")
                get(f"{entry['fullUrl']}/_history/{entry['resource']['meta']['versionId']}")
            url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    medications = session.get(f"{server}/fhir/Medication?_count=0", timeout=30).json()["total"]
    pages = 2 + -(-medications // 5)
    assert seen == 1 + pages + (8 + medications) * 3


def test_the_rest_api_passes_schemathesis_with_every_check(server, tmp_path):
    """schemathesis' own command line, as an outside team runs it (its pytest plugin does not run
    on pytest 9), with every check and a bounded number of examples per operation."""
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{server}/api/v1/schema/?format=json",
            "--url",
            server,
            "--checks",
            "all",
            "--max-examples",
            str(FUZZ_EXAMPLES),
            "--seed",
            "25",
            "--generation-deterministic",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout or " passed" in result.stdout, result.stdout[-3000:]


@needs_nginx
def test_errors_nginx_and_the_app_answer_before_any_view_are_in_each_apis_format(server, tmp_path):
    """The shipped nginx site in front of the live server: an address the app still reads but finds
    too long is the app's 414 in each API's format; a longer one is nginx's own 414, in JSON;
    with no app server answering, nginx's 503 is an OperationOutcome under /fhir/ and the API's
    error under /api/."""
    tmp_path.chmod(0o755)
    port = int(server.rsplit(":", 1)[1])
    proxy = Nginx(upstream_ports=[port], static_root=tmp_path).start()
    try:
        app_long = "x" * 8050  # over FORMULARY_MAX_REQUEST_URI (8000), under gunicorn's and nginx's limits
        response = requests.get(f"{proxy.url}/fhir/MedicationKnowledge?name={app_long}", timeout=30)
        assert response.status_code == 414 and response.headers["Content-Type"].startswith("application/fhir+json")
        assert validated(response.json()).issue[0].code == "too-long"
        response = requests.get(f"{proxy.url}/api/v1/entries/?q={app_long}", timeout=30)
        assert (response.status_code, response.json()["error"]) == (414, "uri_too_long")
        response = requests.get(f"{proxy.url}/fhir/MedicationKnowledge?name={'x' * 9000}", timeout=30)
        assert (response.status_code, response.json()["error"]) == (414, "uri_too_long")
        assert response.headers["Content-Type"] == "application/json"
    finally:
        proxy.stop()

    nobody = Nginx(upstream_ports=[free_port()], static_root=tmp_path).start()
    try:
        response = requests.get(f"{nobody.url}/fhir/metadata", timeout=30)
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert validated(response.json()).issue[0].code == "transient"
        response = requests.get(f"{nobody.url}/api/v1/entries/", timeout=30)
        assert (response.status_code, response.json()["error"]) == (503, "unavailable")
    finally:
        nobody.stop()
