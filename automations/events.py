"""Activity events that reports, the Dashboard tab and the scheduler's journal count by name.

They are matched exactly (case-insensitive, as a spreadsheet's COUNTIFS does), so each kind
of happening has one name of its own.
"""
REASSIGNED = "reassigned"        # the speed clock moved an untouched lead (slow response)
PASSED = "passed"                # the owner replied PASS: the lead moved at once
MANAGER_ALERT = "manager alert"  # the manager was told of an untouched lead
REASSIGNMENT_EVENTS = (REASSIGNED, PASSED)  # both count toward Settings: Max Reassignments
CALL_ATTEMPT = "call attempt"    # one per bridged call-connect call: "contact attempts (48 hrs)" counts these
