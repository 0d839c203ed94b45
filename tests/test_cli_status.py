"""Marking a lead from the terminal in one step, by the number people see: 1001, #1001 or L-1001."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import T0, lead_payload


@pytest.fixture
def lead_id(client):
    return client.post("/leads", json=lead_payload()).get_json()["lead_id"]


def test_status_contacted_by_short_number_stamps_first_contact_and_logs_it(runner, demo_store, clock, lead_id):
    clock.set(T0 + timedelta(minutes=4))
    result = runner.invoke(args=["status", "1001", "Contacted"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "L-1001 Maria Lopez: New -> Contacted"
    lead = demo_store.get_lead(lead_id)
    assert lead.status == "Contacted" and lead.first_contact_at == T0 + timedelta(minutes=4)
    assert lead.response_minutes == 4.0
    assert any(a.event == "status" and "New -> Contacted" in a.detail and "by leadrouter status" in a.detail
               for a in demo_store.activity(lead_id))


def test_quoted_bound_and_lost_take_a_premium_or_a_reason(runner, demo_store, lead_id):
    assert runner.invoke(args=["status", "#1001", "quoted", "$1,450"]).exit_code == 0
    assert demo_store.get_lead(lead_id).premium == 1450
    refused = runner.invoke(args=["status", "L-1001", "Bound", "lots"])
    assert refused.exit_code != 0 and "'lots' is not a premium" in refused.output
    bound = runner.invoke(args=["status", "L-1001", "Bound", "1200"])
    assert bound.exit_code == 0 and "Quoted -> Bound, premium $1,200" in bound.output
    lead = demo_store.get_lead(lead_id)
    assert lead.status == "Bound" and lead.premium == 1200 and lead.bound_at is not None


def test_bound_without_a_premium_asks_for_it_and_changes_nothing(runner, demo_store, lead_id):
    result = runner.invoke(args=["status", "1001", "Bound"])
    assert result.exit_code != 0 and "Bound needs the premium: leadrouter status 1001 Bound 1200" in result.output
    assert demo_store.get_lead(lead_id).status == "New"


def test_lost_keeps_the_reason(runner, demo_store, lead_id):
    assert runner.invoke(args=["status", "1001", "Lost", "went", "with", "a", "cheaper", "quote"]).exit_code == 0
    lead = demo_store.get_lead(lead_id)
    assert lead.status == "Lost" and lead.lost_reason == "went with a cheaper quote"


def test_an_unknown_lead_or_status_is_one_sentence(runner, lead_id):
    unknown = runner.invoke(args=["status", "9999", "Contacted"])
    assert unknown.exit_code == 1 and "no lead 9999 (see `leadrouter leads`" in unknown.output
    bad = runner.invoke(args=["status", "1001", "Called"])
    assert bad.exit_code != 0 and "'Called' is not Contacted, Quoted, Bound or Lost" in bad.output


@pytest.mark.parametrize("ref", ["1001", "#1001", "L-1001", "l-1001"])
def test_activity_accepts_the_short_number_in_every_form(runner, lead_id, ref):
    result = runner.invoke(args=["activity", ref])
    assert result.exit_code == 0, result.output
    assert "received" in result.output and "assigned" in result.output
