"""Who may call each registry operation: operation id -> roles admitted past its role gate.

Checked for every operation × every role by tests/security/test_authorization_matrix.py;
`PUBLIC` operations need no token.
"""

from __future__ import annotations

from shared.auth import Role

R = Role
ANYONE = frozenset(Role)
EDITORS = frozenset({R.civil_affairs, R.street_office, R.service})
APPLICANTS = frozenset({R.organization, R.civil_affairs})
BUREAU = frozenset({R.civil_affairs})
BUREAU_AND_AUDIT = frozenset({R.civil_affairs, R.auditor})
PEOPLE_STATS_READERS = frozenset(
    {R.civil_affairs, R.auditor, R.service, R.provincial_system, R.street_office}
)
PEOPLE_READERS = PEOPLE_STATS_READERS | {R.organization}
PEOPLE_KEEPERS = frozenset({R.civil_affairs, R.service, R.organization})

RULES: dict[str, frozenset[Role]] = {
    "getRegistryVocabulary": ANYONE,
    "listRegistryVocabularies": ANYONE,
    "listRegions": ANYONE,
    "exportOrganizations": frozenset(
        {R.civil_affairs, R.street_office, R.auditor, R.service, R.provincial_system}
    ),
    "getImportTemplate": frozenset({R.civil_affairs, R.street_office}),
    "importOrganizations": frozenset({R.civil_affairs, R.street_office}),
    "listListEntries": ANYONE,
    "listOrganizationListEntries": ANYONE,
    "addListEntry": frozenset({R.civil_affairs, R.service}),
    "removeListEntry": frozenset({R.civil_affairs, R.service}),
    "recordIncubationStep": frozenset({R.civil_affairs, R.street_office}),
    "listIncubationSteps": ANYONE,
    "createFiledRegistrationApplication": APPLICANTS,
    "createHub": frozenset({R.civil_affairs, R.street_office}),
    "listHubs": ANYONE,
    "getHub": ANYONE,
    "createResidency": frozenset({R.civil_affairs, R.street_office}),
    "listResidencies": ANYONE,
    "endResidency": frozenset({R.civil_affairs, R.street_office}),
    "createCompetition": BUREAU,
    "listCompetitions": ANYONE,
    "createCompetitionEntry": BUREAU,
    "listCompetitionEntries": BUREAU_AND_AUDIT,
    "recordCompetitionResult": BUREAU,
    "admitCompetitionEntry": BUREAU,
    "listIncubations": ANYONE,
    "getIncubation": ANYONE,
    "advanceIncubationPhase": frozenset({R.civil_affairs, R.street_office}),
    "listIncubationPhases": ANYONE,
    "recordMentoringSession": frozenset({R.civil_affairs, R.street_office}),
    "listMentoringSessions": ANYONE,
    "createSeedPool": BUREAU,
    "listSeedPools": BUREAU_AND_AUDIT,
    "getSeedPool": BUREAU_AND_AUDIT,
    "createSeedGrant": BUREAU,
    "listSeedGrants": BUREAU_AND_AUDIT,
    "listOrganizationSeedGrants": ANYONE,
    "createOrganization": EDITORS,
    "listOrganizations": ANYONE,
    "getOrganizationStats": ANYONE,
    "getOrganization": ANYONE,
    "updateOrganization": EDITORS,
    "changeOrganizationStatus": EDITORS,
    "listOrganizationHistory": ANYONE,
    "getOrganizationEligibility": ANYONE,
    "createRegistrationApplication": frozenset({R.civil_affairs, R.service}),
    "createChangeApplication": APPLICANTS,
    "createDeregistrationApplication": APPLICANTS,
    "listApplications": frozenset(
        {R.civil_affairs, R.auditor, R.service, R.provincial_system, R.organization}
    ),
    # A department reviewer reads the one its department reviews (scoped by the workflow).
    "getApplication": frozenset(
        {
            R.civil_affairs,
            R.auditor,
            R.service,
            R.provincial_system,
            R.organization,
            R.department_reviewer,
        }
    ),
    "withdrawApplication": APPLICANTS,
    "assignApplicationUscc": BUREAU,
    "receiveRegistryCaseOutcome": frozenset({R.service}),
    # People: personal records, not for reviewers and evaluators.
    "createStaffMember": PEOPLE_KEEPERS,
    "listStaffMembers": PEOPLE_READERS,
    "getStaffMember": PEOPLE_READERS,
    "updateStaffMember": PEOPLE_KEEPERS,
    "deleteStaffMember": PEOPLE_KEEPERS,
    "lookUpPerson": PEOPLE_READERS,
    "createVolunteer": PEOPLE_KEEPERS,
    "listVolunteers": PEOPLE_READERS,
    "getVolunteer": PEOPLE_READERS,
    "updateVolunteer": PEOPLE_KEEPERS,
    "deleteVolunteer": PEOPLE_KEEPERS,
    "recordVolunteerService": PEOPLE_KEEPERS,
    "listVolunteerServiceRecords": PEOPLE_READERS,
    "listVolunteerHoursByOrganization": PEOPLE_READERS,
    "listPartyOrganizations": PEOPLE_READERS,
    "getPartyOrganization": PEOPLE_READERS,
    "putPartyOrganization": frozenset({R.civil_affairs, R.service}),
    "deletePartyOrganization": frozenset({R.civil_affairs, R.service}),
    "listStreetPopulations": PEOPLE_STATS_READERS,
    "setStreetPopulation": frozenset({R.civil_affairs, R.service}),
    "getPeopleStats": PEOPLE_STATS_READERS,
    "submitAnnualInspection": APPLICANTS,
    "listOrganizationInspections": ANYONE,
    "recordInspectionConclusion": BUREAU,
    "listInspections": BUREAU_AND_AUDIT,
    "sweepAnnualReportDeadline": BUREAU,
    "drawSpotCheck": BUREAU,
    "listSpotChecks": BUREAU_AND_AUDIT,
    "previewSpotCheck": BUREAU_AND_AUDIT,
    "getSpotCheck": BUREAU_AND_AUDIT,
    "listSpotCheckItems": BUREAU_AND_AUDIT,
    "recordSpotCheckFinding": BUREAU,
    "applyForGradeEvaluation": APPLICANTS,
    "listOrganizationGradeEvaluations": ANYONE,
    "listGradeEvaluations": frozenset({R.civil_affairs, R.auditor, R.evaluator}),
    "sweepExpiredGrades": BUREAU,
    # A street office keeps filed organizations, never graded.
    "getGradeEvaluation": ANYONE - {R.street_office},
    "scoreGradeEvaluation": frozenset({R.evaluator}),
    "decideGradeEvaluation": BUREAU,
    "publishGradeEvaluation": BUREAU,
    "withdrawGradeEvaluation": APPLICANTS,
}
PUBLIC = {"registryHealthz", "registryReadyz", "listPublicAnnualReports", "listPublicGrades"}
