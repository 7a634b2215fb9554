"""Who may call each projects operation: operation id -> roles admitted past its role gate.

Checked for every operation × every role by tests/security/test_authorization_matrix.py.
"""

from __future__ import annotations

from shared.auth import Role

R = Role
ANYONE = frozenset(Role)
PROJECT_READERS = frozenset(
    {
        R.civil_affairs,
        R.department_reviewer,
        R.organization,
        R.evaluator,
        R.auditor,
        R.street_office,
        R.service,
    }
)
MANAGERS = frozenset({R.civil_affairs, R.department_reviewer})
MONEY_READERS = frozenset(
    {R.civil_affairs, R.department_reviewer, R.organization, R.auditor, R.service}
)
BUREAU = frozenset({R.civil_affairs})
STATION_READERS = frozenset(
    {R.civil_affairs, R.street_office, R.organization, R.auditor, R.service}
)

# Operation id -> roles admitted past the route's role gate (finer scope rules answer 404,
# or 403 from the rule itself, e.g. a department that is not the finance bureau).
RULES: dict[str, frozenset[Role]] = {
    "createFund": BUREAU,
    "listFunds": frozenset({R.civil_affairs, R.auditor, R.service, R.department_reviewer}),
    "getFund": frozenset({R.civil_affairs, R.auditor, R.service, R.department_reviewer}),
    "createGrant": BUREAU,
    "listAllocations": frozenset({R.civil_affairs, R.auditor}),
    "createCall": MANAGERS,
    "listCalls": frozenset(
        {R.civil_affairs, R.department_reviewer, R.organization, R.auditor, R.service}
    ),
    "getCall": frozenset(
        {R.civil_affairs, R.department_reviewer, R.organization, R.auditor, R.service}
    ),
    "updateCall": MANAGERS,
    "closeCall": MANAGERS,
    "applyToCall": frozenset({R.organization}),
    "listProjects": PROJECT_READERS,
    "getProject": PROJECT_READERS,
    "getProjectTimeline": PROJECT_READERS,
    "openProcurement": MANAGERS,
    "getProcurement": MONEY_READERS | {R.evaluator},
    "recordBid": MANAGERS,
    "awardProcurement": MANAGERS,
    "disqualifyBid": MANAGERS,
    "cancelProcurement": MANAGERS,
    "signContract": MANAGERS,
    "getContract": MONEY_READERS | {R.evaluator},
    "proposeAmendment": MANAGERS,
    "approveAmendment": BUREAU,
    "rejectAmendment": BUREAU,
    "recordMeeting": MANAGERS,
    "listMeetings": PROJECT_READERS,
    "holdCallMeeting": BUREAU,
    "listCallMeetings": frozenset(
        {R.civil_affairs, R.department_reviewer, R.organization, R.auditor, R.service}
    ),
    "initiateProject": MANAGERS,
    "requestPayment": frozenset({R.organization, R.civil_affairs}),
    "listPaymentRequests": MONEY_READERS,
    "recordTransfer": MANAGERS,
    "getLedger": MONEY_READERS,
    "listProgressReports": PROJECT_READERS,
    "submitProgressReport": frozenset({R.organization}),
    "recordSupervisionVisit": MANAGERS,
    "listSupervisionVisits": PROJECT_READERS,
    "respondToRectification": frozenset({R.organization}),
    "resolveRectification": MANAGERS,
    "reportMilestone": frozenset({R.organization}),
    "confirmMilestone": MANAGERS,
    "startEvaluation": BUREAU,
    "getEvaluation": MONEY_READERS | {R.evaluator},
    "addEvaluators": BUREAU,
    "releaseEvaluator": BUREAU,
    "declareConflictOfInterest": frozenset({R.evaluator}),
    "submitScoreSheet": frozenset({R.evaluator}),
    "concludeEvaluation": BUREAU,
    "listSppeSchemes": ANYONE,
    "getSppeScheme": ANYONE,
    "requestClosure": frozenset({R.organization, R.civil_affairs}),
    "getProjectOcds": ANYONE,
    "getProjectOcdsRecord": ANYONE,
    # Every role reads the releases of the projects it may read (services.projects.access scoping).
    "listOcdsReleases": ANYONE,
    "listOcdsRecords": ANYONE,
    "getSpendReport": frozenset({R.civil_affairs, R.department_reviewer, R.auditor, R.service}),
    "getProjectCodes": ANYONE,
    "listProjectsVocabularies": ANYONE,
    "receiveProjectsCaseOutcome": frozenset({R.service}),
    "sweepProgressReports": frozenset({R.service, R.civil_affairs}),
    # Social-work stations: the bureau manages; a street office (its own town), the host
    # agency (its own station), auditors and services read.
    "createStation": BUREAU,
    "listStations": STATION_READERS,
    "getStation": STATION_READERS,
    "updateStation": BUREAU,
    "attachStationProject": BUREAU,
    "listStationProjects": STATION_READERS,
    "detachStationProject": BUREAU,
    "getStationScore": STATION_READERS,
}
