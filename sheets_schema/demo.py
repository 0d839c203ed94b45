"""The guide's demo agency: its four producers and territories, a manager, a CSR, its
lead sources with their typical costs, the Lines table, and the guide's message texts.
`leadrouter init --demo` loads it into any backend."""
from __future__ import annotations

T = "[Name]"

PRODUCERS = [
    dict(name="Sarah M.", role="Producer", email="sarah@demo-agency.example", mobile="+12015550111",
         lines="Personal, Small Commercial", active="Y", max_active_leads="", licensed_states="",
         backup="David L."),
    dict(name="James K.", role="Producer", email="james@demo-agency.example", mobile="+12015550112",
         lines="Personal", active="Y", max_active_leads="", licensed_states="", backup="Sarah M."),
    dict(name="Rachel T.", role="Producer", email="rachel@demo-agency.example", mobile="+12015550113",
         lines="Commercial", active="Y", max_active_leads="", licensed_states="", backup="David L."),
    dict(name="David L.", role="Producer", email="david@demo-agency.example", mobile="+12015550114",
         lines="Personal, Commercial", active="Y", max_active_leads="", licensed_states="",
         backup="Rachel T."),
    dict(name="Casey R.", role="CSR", email="casey@demo-agency.example", mobile="+12015550115",
         lines="Personal", active="Y", licensed_states=""),
    dict(name="Morgan P.", role="Manager", email="morgan@demo-agency.example", mobile="+12015550116",
         lines="Personal, Commercial", active="Y", licensed_states=""),
]

TERRITORIES = [
    dict(territory="North County", zip_from="10001", zip_to="10099", producer="Sarah M.", backup="David L.",
         line_focus="Personal + Small Commercial"),
    dict(territory="South County", zip_from="10100", zip_to="10199", producer="James K.", backup="Sarah M.",
         line_focus="Personal Lines"),
    dict(territory="Metro", zip_from="10200", zip_to="10299", producer="Rachel T.", backup="David L.",
         line_focus="Commercial"),
    dict(territory="West Side", zip_from="10300", zip_to="10399", producer="David L.", backup="Rachel T.",
         line_focus="Personal + Commercial"),
]

WEIGHTS = [
    dict(factor="capacity", weight="30", bands="5:10, 10:8, 15:6, 20:4, *:2"),
    dict(factor="specialization", weight="35", bands="territory+line:10, line:8, related:6, none:4"),
    dict(factor="close_rate", weight="25", bands=""),
    dict(factor="response_time", weight="10", bands="5:10, 15:8, 30:6, 60:4, *:2"),
]

SOURCES = [
    dict(source="Website", type="Organic", cost_per_lead="2.50", monthly_spend="0", commission_rate="12%",
         priority="Normal",
         aliases="website, organic, seo, google organic, search, google search, search engine, web search"),
    dict(source="Google Ads", type="Paid", cost_per_lead="50", monthly_spend="0", commission_rate="12%",
         priority="Normal", aliases="google, adwords, google ads, cpc, ppc"),
    dict(source="Facebook Ads", type="Paid", cost_per_lead="27.50", monthly_spend="0", commission_rate="12%",
         priority="Normal", aliases="facebook, fb, instagram, meta"),
    dict(source="Referral", type="Referral", cost_per_lead="12.50", monthly_spend="0", commission_rate="12%",
         priority="High",
         aliases="referral, referrals, referred, friend, family, client referral, word of mouth, recommended"),
    dict(source="Carrier", type="Carrier", cost_per_lead="35", monthly_spend="0", commission_rate="12%",
         priority="Normal", aliases="carrier, carrier leads"),
    dict(source="QuoteWizard", type="Vendor", cost_per_lead="19", monthly_spend="0", commission_rate="12%",
         priority="Normal", aliases="quotewizard, third-party, everquote, smartfinancial"),
    dict(source="Walk-in / Phone", type="Walk-in", cost_per_lead="0", monthly_spend="0", commission_rate="12%",
         priority="High", aliases="walk-in, walk in, phone, call"),
]

LINES = [
    dict(insurance_type="Auto", line="Personal", related_lines="Commercial"),
    dict(insurance_type="Home", line="Personal", related_lines=""),
    dict(insurance_type="Renters", line="Personal", related_lines=""),
    dict(insurance_type="Condo", line="Personal", related_lines=""),
    dict(insurance_type="Umbrella", line="Personal", related_lines="Commercial"),
    dict(insurance_type="Motorcycle", line="Personal", related_lines=""),
    dict(insurance_type="BOP", line="Commercial", related_lines=""),
    dict(insurance_type="General Liability", line="Commercial", related_lines=""),
    dict(insurance_type="Workers Comp", line="Commercial", related_lines=""),
    dict(insurance_type="Commercial Auto", line="Commercial", related_lines="Personal"),
    dict(insurance_type="Commercial Property", line="Commercial", related_lines=""),
    dict(insurance_type="Life", line="Life", related_lines="Health"),
    dict(insurance_type="Health", line="Health", related_lines="Life"),
]

CLIENTS = [
    dict(name="Pat Existing", email="pat.client@example.com", phone="+12015550190", csr="Casey R."),
]

TEMPLATES = [
    dict(key="producer_new_lead", channel="sms", subject="",
         body="New lead #[Lead]: [Name], [Type], ZIP [ZIP]. Call [Phone] now. Reply C [Lead] when contacted."),
    dict(key="producer_new_lead_email", channel="email", subject="New lead #[Lead]: [Name] ([Type])",
         body="[Producer],\n\nA new lead is yours: [Name], [Type], ZIP [ZIP], phone [Phone], email [Email].\n"
              "Source: [Source]. Why you: [Reason]\n\nCall within 5 minutes. The clock is running.\n\n"
              "Reply to the text with C [Lead] when you have reached them."),
    dict(key="producer_duplicate", channel="sms", subject="",
         body="[Name] (lead #[Lead]) just submitted the form again. Good moment to call: [Phone]."),
    dict(key="producer_reminder_5", channel="sms", subject="",
         body="Reminder: lead #[Lead] [Name] is waiting [Minutes] min. Call [Phone]. Reply C [Lead] when done."),
    dict(key="producer_warning_15", channel="sms", subject="",
         body="Warning: lead #[Lead] [Name] untouched for [Minutes] min. It will be reassigned at 30 min."),
    dict(key="producer_warning_15_email", channel="email", subject="Lead #[Lead] untouched for [Minutes] min",
         body="[Producer],\n\nLead #[Lead] ([Name], [Phone]) has not been contacted for [Minutes] minutes.\n"
              "At 30 minutes it will be reassigned."),
    dict(key="producer_reassigned_away", channel="sms", subject="",
         body="Lead #[Lead] [Name] was reassigned to [NewOwner] after [Minutes] min without contact."),
    dict(key="producer_lead_reply", channel="sms", subject="",
         body="Lead #[Lead] [Name] texted: [Reply] (call [Phone])"),
    dict(key="producer_call_reminder", channel="sms", subject="",
         body="Call attempt due for lead #[Lead] [Name]: [Phone]. Try a different time of day."),
    dict(key="manager_alert", channel="sms", subject="",
         body="Alert: lead #[Lead] [Name] still untouched after [Minutes] min (owner [Producer])."),
    dict(key="manager_alert_email", channel="email", subject="Lead #[Lead] still untouched",
         body="Lead #[Lead] ([Name], [Type], [Source]) is still untouched after [Minutes] minutes.\n"
              "Owner: [Producer]."),
    dict(key="lead_text_min5", channel="sms", subject="",
         body="Hi [Name], this is [Producer] from [Agency]. I just tried to call you about your insurance "
              "quote. I will try again shortly, or feel free to call me at [Number]. - [Producer]"),
    dict(key="lead_intro_email", channel="email", subject="Your insurance quote from [Agency]",
         body="Hi [Name],\n\nThanks for asking [Agency] for a quote. I'm [Producer], and I'll be helping you.\n"
              "What to expect: a short call to confirm a few details, then your quote, usually the same day.\n\n"
              "You can reach me directly at [Number].\n\n[Producer]\n[Agency]"),
    dict(key="lead_text_h4", channel="sms", subject="",
         body="Hi [Name], [Producer] from [Agency] again about your quote. When is a good time to call? "
              "You can reach me at [Number]."),
    dict(key="lead_last_try_email", channel="email", subject="Last try: your insurance quote",
         body="Hi [Name],\n\nI've tried to reach you a few times about your quote. This is my last try for "
              "now: call or text me at [Number] whenever suits you.\n\n[Producer]\n[Agency]"),
    dict(key="lead_final_email", channel="email", subject="We're here when you're ready",
         body="Hi [Name],\n\nWe tried to reach you about your insurance quote. If the timing is better later, "
              "here is my direct line: [Number]. We are here when you are ready.\n\n[Producer]\n[Agency]"),
    dict(key="lead_nurture_email", channel="email", subject="[Agency]: still here when you need us",
         body="Hi [Name],\n\nA quick note from [Agency]. If anything changes with your insurance, "
              "[Producer] is one call away at [Number].\n\n[Agency]"),
]

SETTINGS = [
    dict(setting="Agency Name", value="Demo Insurance Agency"),
    dict(setting="Agency Phone", value="+12015550100"),
    dict(setting="Time Zone", value="America/New_York"),
    dict(setting="Business Hours", value="Mon-Fri 08:00-18:00"),
    dict(setting="Holidays", value="2026-12-25, 2027-01-01"),
    dict(setting="Routing Model", value="round_robin"),
    dict(setting="Duplicate Window", value="30"),
    dict(setting="Quiet Hours", value="21:00-08:00"),
    dict(setting="Tick Seconds", value="30"),
    dict(setting="Territory Fallback", value="round_robin"),
    dict(setting="Max Reassignments", value="2"),
    dict(setting="Default Source", value="Website"),
    dict(setting="Monthly Report Email", value="Y"),
    dict(setting="Texts Need Consent", value="Y"),
]

FORM_FIELDS = [
    dict(key="1.3", field="first_name"),
    dict(key="1.6", field="last_name"),
    dict(key="2", field="email"),
    dict(key="3", field="phone"),
    dict(key="4", field="zip"),
    dict(key="5", field="insurance_type"),
]

DEMO: dict[str, list[dict]] = {
    "Producers": PRODUCERS, "Territories": TERRITORIES, "Weights": WEIGHTS, "Sources": SOURCES,
    "Lines": LINES, "Clients": CLIENTS, "Templates": TEMPLATES, "Settings": SETTINGS, "Form Fields": FORM_FIELDS,
}


def demo_rows(model: str = "round_robin") -> dict[str, list[dict]]:
    """The demo tabs, with the routing model set as asked."""
    rows = {tab: [dict(r) for r in table] for tab, table in DEMO.items()}
    for row in rows["Settings"]:
        if row["setting"] == "Routing Model":
            row["value"] = model
    return rows
