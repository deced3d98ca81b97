"""Document types and profile fields the wallet knows (docs/design.md). Labels are plain English;
translations live with the web pages. These names only ever travel inside encrypted metadata."""

DOCUMENT_TYPES: dict[str, tuple[str, str]] = {
    # type: (procedure category, label)
    "id_card": ("identity", "Identity card"),
    "passport": ("identity", "Passport"),
    "residence_permit": ("identity", "Residence permit or its receipt"),
    "registration_certificate": ("identity", "Registration certificate"),
    "reference_address": ("identity", "Reference-address attestation"),
    "birth_certificate": ("identity", "Birth certificate"),
    "household_composition": ("identity", "Household composition"),
    "payslip": ("work", "Payslip or salary certificate"),
    "bank_statement": ("money", "Bank statement"),
    "benefit_decision": ("social_aid", "Benefit decision"),
    "tax_assessment": ("money", "Tax assessment"),
    "employment_registration": ("work", "Registration with the employment service"),
    "employment_contract": ("work", "Employment contract"),
    "cv": ("work", "CV"),
    "diploma": ("studies", "Diploma"),
    "training_certificate": ("studies", "Training certificate"),
    "diploma_equivalence": ("studies", "Diploma equivalence"),
    "lease": ("housing", "Lease"),
    "rent_receipt": ("housing", "Rent receipt"),
    "energy_bill": ("housing", "Energy bill"),
    "water_bill": ("housing", "Water bill"),
    "housing_subsidy_file": ("housing", "Housing-subsidy file"),
    "support_plan": ("housing", "Support plan"),
    "health_insurance": ("health", "Health-insurance affiliation"),
    "medical_certificate": ("health", "Medical certificate"),
    "disability_recognition": ("health", "Disability recognition"),
    "dependency_insurance": ("health", "Dependency insurance"),
    "medical_bill": ("health", "Medical bill"),
    "child_birth_certificate": ("family", "Child's birth certificate"),
    "school_certificate": ("family", "School certificate"),
    "childcare_invoice": ("family", "Childcare invoice"),
    "maintenance_decision": ("family", "Maintenance decision"),
    "request_acknowledgement": ("social_aid", "Acknowledgement of a request"),
    "social_inquiry_report": ("social_aid", "Social-inquiry report"),
    "integration_contract": ("social_aid", "Integration contract"),
    "decision_notification": ("social_aid", "Decision notification"),
    "sanction_letter": ("social_aid", "Sanction letter"),
    "appeal": ("justice", "Appeal"),
    "court_judgment": ("justice", "Court judgment"),
    "debt_mediation_file": ("money", "Debt-mediation file"),
    "study_grant_application": ("studies", "Study-grant application"),
    "other": ("other", "Other"),
}

PROCEDURE_CATEGORIES: dict[str, str] = {
    "identity": "Identity and residence papers",
    "family": "Family",
    "social_aid": "Social aid",
    "work": "Work and training",
    "housing": "Housing and energy",
    "health": "Health",
    "money": "Money and debts",
    "justice": "Justice",
    "studies": "Studies",
    "transport": "Transport",
    "other": "Other",
}

CORE_PROFILE_FIELDS = ("first_name", "last_name", "birth_date", "national_number")
FIRST_CIRCLE_PROFILE_FIELDS = ("civil_status", "children", "address", "employer")
PROFILE_FIELDS = CORE_PROFILE_FIELDS + FIRST_CIRCLE_PROFILE_FIELDS
