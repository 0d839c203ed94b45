"""Meta's real-time leadgen webhook carries ids only: the lead is fetched from Graph (a loopback fake)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.meta_graph_fake import TOKEN, GraphFake

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
WEBHOOK = {"object": "page", "entry": [{"id": "153125381133", "time": 1750348862, "changes": [{"field": "leadgen",
           "value": {"created_time": 1750348862, "leadgen_id": "1200340056007800", "page_id": "153125381133",
                     "form_id": "998877665544", "adgroup_id": "0", "ad_id": "0"}}]}]}


@pytest.fixture
def graph(monkeypatch):
    fake = GraphFake()
    fake.leads["1200340056007800"] = json.loads((FIXTURES / "meta_lead_home.json").read_text())
    monkeypatch.setenv("LEADROUTER_META_GRAPH_API", fake.url)
    yield fake
    fake.close()


def test_a_leadgen_webhook_fetches_the_lead_from_graph_with_the_page_token(client, demo_store, graph, monkeypatch):
    monkeypatch.setenv("META_PAGE_ACCESS_TOKEN", TOKEN)
    r = client.post("/leads", json=WEBHOOK)
    assert r.status_code == 200
    lead_id = r.get_json()["leads"][0]["lead_id"]
    lead = demo_store.get_lead(lead_id)
    assert (lead.first_name, lead.last_name, lead.zip, lead.insurance_type) == ("Kate", "Lopez", "10160", "Home")
    assert lead.source == "Facebook Ads" and graph.requests == ["/v21.0/1200340056007800"]


def test_without_a_token_the_webhook_is_kept_saying_what_is_missing(client, runner, demo_store, graph, monkeypatch):
    monkeypatch.delenv("META_PAGE_ACCESS_TOKEN", raising=False)
    r = client.post("/leads", json=WEBHOOK)
    assert r.status_code == 200 and "META_PAGE_ACCESS_TOKEN" in r.get_json()["leads"][0]["errors"]["meta"]
    assert demo_store.leads() == [] and graph.requests == []
    rows = json.loads(runner.invoke(args=["rejected", "--json"]).output)
    assert "META_PAGE_ACCESS_TOKEN" in rows[0]["errors"]


def test_a_wrong_token_or_an_unreachable_graph_is_kept_never_a_5xx(client, demo_store, graph, monkeypatch):
    monkeypatch.setenv("META_PAGE_ACCESS_TOKEN", "wrong")
    r = client.post("/leads", json=WEBHOOK)
    assert r.status_code == 200 and "answered 400" in r.get_json()["leads"][0]["errors"]["meta"]
    monkeypatch.setenv("LEADROUTER_META_GRAPH_API", "http://127.0.0.1:9")  # nothing listens there
    r = client.post("/leads", json=WEBHOOK)
    assert r.status_code == 200 and "unreachable" in r.get_json()["leads"][0]["errors"]["meta"]
    assert demo_store.leads() == [] and len(demo_store.rejected()) == 2


def test_metas_subscription_check_is_answered_with_the_challenge(client, monkeypatch):
    monkeypatch.setenv("META_VERIFY_TOKEN", "s3cret")
    r = client.get("/leads?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=s3cret")
    assert r.status_code == 200 and r.data == b"1158201444"
    assert client.get("/leads?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope").status_code == 405
