"""The sandbox portal's submissions API (portal-api.md): auth, paging, download, ack, and each fault."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from sandbox.portal.__main__ import main as portal_main
from sandbox.portal.app import create_app
from sandbox.portal.faults import Faults, load_faults
from sandbox.portal.store import PortalStore
from sandbox.samples import generate
from sandbox.samples.identifiers import REFERENCE_ALPHABET
from sandbox.samples.writers import write_portal_dir

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Token {TOKEN}"}
LIST = "/api/v1/submissions?status=new&form=tonk"
FIXED_NOW = datetime(2021, 8, 20, 9, 30, tzinfo=UTC)


def ref(i: int) -> str:
    """A reference in the portal's alphabet, distinct per i: `OF-AAAAAA`, `OF-AAAAAB`, ..."""
    chars = []
    for _ in range(6):
        i, r = divmod(i, len(REFERENCE_ALPHABET))
        chars.append(REFERENCE_ALPHABET[r])
    return "OF-" + "".join(reversed(chars))


def fill(store: PortalStore, n: int, form: str = "tonk", start: int = 0) -> list[str]:
    """Add n submissions, one minute apart from 1 Aug 2021 08:00 (+02:00), each with two attachments."""
    refs = []
    for i in range(start, start + n):
        at = datetime.fromisoformat("2021-08-01T08:00:00+02:00") + timedelta(minutes=i)
        store.add_submission(ref(i), form, at.isoformat(), {"bsn": "111222333", "achternaam": "Çelik"}, [
            {"id": f"a{i}x", "document_type": "identiteitsbewijs", "filename": f"paspoort Ayşe {i}.pdf",
             "content_type": "application/pdf", "data": b"%PDF-1.4 paspoort " + str(i).encode()},
            {"id": f"b{i}x", "document_type": "bankpas", "filename": "bankpas.jpg", "content_type": "image/jpeg",
             "data": b"\xff\xd8\xff bankpas"},
        ])
        refs.append(ref(i))
    return refs


@pytest.fixture
def store(tmp_path):
    return PortalStore(tmp_path / "portal.sqlite", clock=lambda: FIXED_NOW)


@pytest.fixture
def slept():
    return []


@pytest.fixture
def client(store, slept):
    return TestClient(create_app(store, TOKEN, control=True, sleep=slept.append))


def set_faults(client, **settings):
    response = client.put("/_control/faults", json=settings, headers=AUTH)
    assert response.status_code == 200, response.text


# --- authentication ----------------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "Token wrong", f"Bearer {TOKEN}", TOKEN, "Token "])
def test_without_the_right_token_every_route_answers_401(client, store, header):
    fill(store, 1)
    headers = {"Authorization": header} if header is not None else {}
    for method, url in (("get", LIST), ("get", f"/api/v1/submissions/{ref(0)}/attachments/a0x"),
                        ("post", f"/api/v1/submissions/{ref(0)}/ack"), ("get", "/_control/faults")):
        response = client.request(method, url, headers=headers, json={"status": "received"})
        assert response.status_code == 401, (url, header)
        assert response.headers["WWW-Authenticate"] == "Token"


def test_with_the_token_the_list_answers(client, store):
    fill(store, 1)
    assert client.get(LIST, headers=AUTH).status_code == 200


def test_an_empty_token_is_refused_at_start(store):
    with pytest.raises(ValueError, match="token"):
        create_app(store, "")


# --- paging ------------------------------------------------------------------------------------

def test_120_submissions_make_three_pages_of_50_50_20(client, store):
    refs = fill(store, 120)
    pages = [client.get(f"{LIST}&page={n}", headers=AUTH).json() for n in (1, 2, 3)]
    assert [len(p["results"]) for p in pages] == [50, 50, 20]
    assert [p["count"] for p in pages] == [120, 120, 120]
    assert [p["next"] for p in pages] == ["/api/v1/submissions?status=new&form=tonk&page=2",
                                          "/api/v1/submissions?status=new&form=tonk&page=3", None]
    assert [p["previous"] for p in pages] == [None, "/api/v1/submissions?status=new&form=tonk&page=1",
                                              "/api/v1/submissions?status=new&form=tonk&page=2"]
    assert [r["reference"] for p in pages for r in p["results"]] == refs  # oldest first, none twice


def test_following_next_links_reaches_every_submission(client, store):
    refs = fill(store, 120)
    seen, url = [], LIST
    while url:
        body = client.get(url, headers=AUTH).json()
        seen += [r["reference"] for r in body["results"]]
        url = body["next"]
    assert seen == refs


def test_page_past_the_last_is_404_and_page_1_of_nothing_is_empty(client, store):
    fill(store, 3)
    assert client.get(f"{LIST}&page=2", headers=AUTH).status_code == 404
    empty = client.get("/api/v1/submissions?status=new&form=bouwvergunning&page=1", headers=AUTH).json()
    assert empty == {"count": 0, "next": None, "previous": None, "results": []}


def test_page_zero_is_a_validation_error(client, store):
    assert client.get(f"{LIST}&page=0", headers=AUTH).status_code == 422


def test_form_filter_leaves_other_forms_out(client, store):
    fill(store, 2)
    fill(store, 1, form="parkeervergunning", start=50)
    body = client.get(LIST, headers=AUTH).json()
    assert [r["reference"] for r in body["results"]] == [ref(0), ref(1)]
    everything = client.get("/api/v1/submissions", headers=AUTH).json()
    assert everything["count"] == 3


def test_result_shape_follows_the_spec(client, store):
    fill(store, 1)
    (result,) = client.get(LIST, headers=AUTH).json()["results"]
    assert result == {
        "reference": ref(0),
        "form": "tonk",
        "submitted_at": "2021-08-01T08:00:00+02:00",
        "data": {"bsn": "111222333", "achternaam": "Çelik"},
        "attachments": [
            {"id": "a0x", "document_type": "identiteitsbewijs", "filename": "paspoort Ayşe 0.pdf",
             "content_type": "application/pdf", "size": 19,  # len(b"%PDF-1.4 paspoort 0") = 19
             "url": f"/api/v1/submissions/{ref(0)}/attachments/a0x"},
            {"id": "b0x", "document_type": "bankpas", "filename": "bankpas.jpg", "content_type": "image/jpeg",
             "size": 11,  # 3 bytes of JPEG magic + len(b" bankpas") = 8
             "url": f"/api/v1/submissions/{ref(0)}/attachments/b0x"},
        ],
    }


# --- download ----------------------------------------------------------------------------------

def test_attachment_download_gives_the_bytes_with_their_content_type(client, store):
    fill(store, 1)
    response = client.get(f"/api/v1/submissions/{ref(0)}/attachments/a0x", headers=AUTH)
    assert response.status_code == 200
    assert response.content == b"%PDF-1.4 paspoort 0"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''paspoort%20Ay%C5%9Fe%200.pdf"


def test_unknown_attachment_or_submission_is_404(client, store):
    fill(store, 1)
    assert client.get(f"/api/v1/submissions/{ref(0)}/attachments/nope", headers=AUTH).status_code == 404
    assert client.get("/api/v1/submissions/OF-ZZZZZZ/attachments/a0x", headers=AUTH).status_code == 404


# --- acknowledge -------------------------------------------------------------------------------

def test_ack_is_idempotent_and_the_first_is_recorded(client, store):
    fill(store, 1)
    url = f"/api/v1/submissions/{ref(0)}/ack"
    first = client.post(url, json={"status": "received", "external_reference": "item-17"}, headers=AUTH)
    second = client.post(url, json={"status": "received", "external_reference": "item-18"}, headers=AUTH)
    assert first.status_code == second.status_code == 200
    expected = {"reference": ref(0), "status": "received", "external_reference": "item-17",
                "acknowledged_at": "2021-08-20T09:30:00+00:00"}
    assert first.json() == second.json() == expected
    assert store.get(ref(0)).ack_count == 2


def test_acked_submissions_leave_status_new(client, store):
    refs = fill(store, 3)
    client.post(f"/api/v1/submissions/{refs[1]}/ack", json={"status": "received", "external_reference": "x"},
                headers=AUTH)
    new = client.get(LIST, headers=AUTH).json()
    assert (new["count"], [r["reference"] for r in new["results"]]) == (2, [refs[0], refs[2]])
    received = client.get("/api/v1/submissions?status=received&form=tonk", headers=AUTH).json()
    assert [r["reference"] for r in received["results"]] == [refs[1]]


def test_ack_of_an_unknown_reference_is_404_and_a_bad_body_422(client, store):
    fill(store, 1)
    assert client.post("/api/v1/submissions/OF-ZZZZZZ/ack", json={"status": "received"},
                       headers=AUTH).status_code == 404
    assert client.post(f"/api/v1/submissions/{ref(0)}/ack", json={"status": "done"}, headers=AUTH).status_code == 422
    assert store.get(ref(0)).status == "new"


# --- faults ------------------------------------------------------------------------------------

def test_fail_next_answers_gateway_errors_then_recovers(client, store):
    fill(store, 1)
    set_faults(client, fail_next=2, error_statuses=[502])
    answers = [client.get(LIST, headers=AUTH) for _ in range(3)]
    assert [a.status_code for a in answers] == [502, 502, 200]
    assert "502 Bad Gateway" in answers[0].text
    assert answers[0].headers["content-type"].startswith("text/html")


def test_error_rate_is_seeded_and_reproducible(client, store):
    fill(store, 1)
    runs = []
    for _ in range(2):
        set_faults(client, error_rate=0.5, error_statuses=[502, 503], seed=7)
        runs.append([client.get(LIST, headers=AUTH).status_code for _ in range(40)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 502, 503}


def test_error_rate_one_fails_every_api_request_but_not_the_control(client, store):
    fill(store, 1)
    set_faults(client, error_rate=1.0, error_statuses=[504])
    assert client.get(LIST, headers=AUTH).status_code == 504
    assert client.get(f"/api/v1/submissions/{ref(0)}/attachments/a0x", headers=AUTH).status_code == 504
    assert client.post(f"/api/v1/submissions/{ref(0)}/ack", json={"status": "received"},
                       headers=AUTH).status_code == 504
    assert store.get(ref(0)).status == "new"  # a failed ack changed nothing
    assert client.get("/_control/faults", headers=AUTH).status_code == 200


def test_slow_responses_wait_the_configured_delay(client, store, slept):
    fill(store, 1)
    set_faults(client, delay_seconds=2.5)
    client.get(LIST, headers=AUTH)
    client.get(f"/api/v1/submissions/{ref(0)}/attachments/a0x", headers=AUTH)
    assert slept == [2.5, 2.5]


def test_a_named_attachment_404s(client, store):
    fill(store, 1)
    set_faults(client, missing_attachments=["paspoort Ayşe 0.pdf"])
    assert client.get(f"/api/v1/submissions/{ref(0)}/attachments/a0x", headers=AUTH).status_code == 404
    assert client.get(f"/api/v1/submissions/{ref(0)}/attachments/b0x", headers=AUTH).status_code == 200


def test_size_mismatch_lists_one_byte_more_than_the_bytes(client, store):
    fill(store, 1)
    set_faults(client, size_mismatch=["a0x"])
    listed = client.get(LIST, headers=AUTH).json()["results"][0]["attachments"]
    assert [a["size"] for a in listed] == [20, 11]  # 19 + 1 for a0x; b0x true
    body = client.get(f"/api/v1/submissions/{ref(0)}/attachments/a0x", headers=AUTH).content
    assert len(body) == 19


def test_truncated_download_stops_after_half(client, store):
    fill(store, 1)
    set_faults(client, truncate_attachments=["*"])
    listed = client.get(LIST, headers=AUTH).json()["results"][0]["attachments"][0]
    body = client.get(f"/api/v1/submissions/{ref(0)}/attachments/a0x", headers=AUTH).content
    assert (listed["size"], body) == (19, b"%PDF-1.4 ")  # 19 // 2 = 9 bytes


def test_another_runner_acknowledges_between_pages(client, store):
    refs = fill(store, 120)
    set_faults(client, ack_between_pages=5)
    page1 = client.get(f"{LIST}&page=1", headers=AUTH).json()
    # after page 1 the other runner took refs 0-4: 115 new; page 2 starts at offset 50 of refs 5..119 = ref 55
    page2 = client.get(f"{LIST}&page=2", headers=AUTH).json()
    # after page 2 it took refs 55-59: 110 new (5-54, 60-119); page 3 = offset 100 = refs 110..119
    page3 = client.get(f"{LIST}&page=3", headers=AUTH).json()
    assert [r["reference"] for r in page1["results"]] == refs[0:50]
    assert (page2["count"], [r["reference"] for r in page2["results"]]) == (115, refs[55:105])
    assert (page3["count"], page3["next"], [r["reference"] for r in page3["results"]]) == (110, None, refs[110:120])
    # missed in this pass but still new, so the next pass finds them: refs 50-54 and 105-109
    seen = {r["reference"] for p in (page1, page2, page3) for r in p["results"]}
    still_new = {s.reference for s in store.all() if s.status == "new"}
    assert set(refs) - seen == set(refs[50:55] + refs[105:110])
    assert set(refs) - seen <= still_new
    assert {s.reference for s in store.all() if s.acknowledged_by == "other-runner"} == set(refs[0:5] + refs[55:60])


def test_control_rejects_unknown_or_bad_settings(client):
    assert client.put("/_control/faults", json={"error_rate": 2}, headers=AUTH).status_code == 422
    assert client.put("/_control/faults", json={"eror_rate": 0.1}, headers=AUTH).status_code == 422
    assert client.put("/_control/faults", json={"error_statuses": [404]}, headers=AUTH).status_code == 422


def test_control_reset_puts_everything_back_to_new(client, store):
    refs = fill(store, 2)
    store.acknowledge(refs[0], "x", actor="api")
    assert client.post("/_control/reset", headers=AUTH).json() == {"reset": 1}
    assert {s.status for s in store.all()} == {"new"}


def test_without_control_there_are_no_control_routes(store):
    plain = TestClient(create_app(store, TOKEN))
    assert plain.get("/_control/faults", headers=AUTH).status_code == 404


def test_faults_switched_on_at_start(store):
    fill(store, 1)
    flaky = TestClient(create_app(store, TOKEN, Faults(fail_next=1, error_statuses=[503])))
    assert [flaky.get(LIST, headers=AUTH).status_code for _ in range(2)] == [503, 200]


def test_load_faults_from_json_and_yaml(tmp_path):
    assert load_faults('{"error_rate": 0.25, "seed": 3}') == Faults(error_rate=0.25, seed=3)
    file = tmp_path / "faults.yaml"
    file.write_text("error_rate: 0.1\nerror_statuses: [503, 504]\nmissing_attachments: [bankpas.jpg]\n",
                    encoding="utf-8")
    assert load_faults(str(file)) == Faults(error_rate=0.1, error_statuses=[503, 504],
                                            missing_attachments=["bankpas.jpg"])
    with pytest.raises(ValueError, match="delay_seconds"):
        load_faults('{"delay_seconds": -1}')


# --- loading the generator's output ----------------------------------------------------------

def test_generator_output_loads_and_serves_the_same_bytes(tmp_path, client, store):
    samples = generate(3, 2021, others=0, portal_share=1.0)
    assert write_portal_dir(samples, tmp_path / "portal") == 3
    assert store.load_dir(tmp_path / "portal") == (3, 0)
    assert store.load_dir(tmp_path / "portal") == (0, 3)  # reload: nothing twice
    body = client.get(LIST, headers=AUTH).json()
    by_ref = {s.reference: s for s in samples}
    assert {r["reference"] for r in body["results"]} == set(by_ref)
    for result in body["results"]:
        sample = by_ref[result["reference"]]
        assert result["data"] == sample.expectation["raw"]
        assert result["submitted_at"] == sample.expectation["received"]
        for attachment, doc in zip(result["attachments"], sample.expectation["documents"], strict=True):
            data = client.get(attachment["url"], headers=AUTH).content
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (doc["sha256"], doc["size"])
            assert (attachment["filename"], attachment["document_type"]) == (doc["filename"], doc["type"])


def test_load_refuses_a_file_that_does_not_match_its_sha256(tmp_path, store):
    samples = generate(1, 5, others=0, portal_share=1.0)
    write_portal_dir(samples, tmp_path / "portal")
    victim = next((tmp_path / "portal" / "attachments").iterdir())
    victim.write_bytes(b"tampered")
    with pytest.raises(ValueError, match=victim.name):
        store.load_dir(tmp_path / "portal")


def test_cli_load_and_list(tmp_path, capsys):
    samples = generate(2, 9, others=0, portal_share=1.0)
    write_portal_dir(samples, tmp_path / "portal")
    data = tmp_path / "portal.sqlite"
    assert portal_main(["load", "--from", str(tmp_path / "portal"), "--data", str(data)]) == 0
    assert "2 submissions added, 0 already there" in capsys.readouterr().out
    assert portal_main(["submissions", "--data", str(data), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["reference"] for r in rows) == sorted(s.reference for s in samples)
    assert {r["status"] for r in rows} == {"new"}


def test_cli_load_from_a_folder_without_submissions_is_a_usage_error(tmp_path, capsys):
    assert portal_main(["load", "--from", str(tmp_path), "--data", str(tmp_path / "p.sqlite")]) == 2
    assert "no submissions/ folder" in capsys.readouterr().err
