"""The demo's product catalog and name material (plain data)."""

from __future__ import annotations

from decimal import Decimal

# publisher, item type, product id, title, term, frequency, list price (per unit and period)
PRODUCTS = [
    ("Microsoft", "OnlineServicesNCE", "CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic", "P1M", "monthly", "7.20"),
    ("Microsoft", "OnlineServicesNCE", "CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic", "P1Y", "annual", "72.00"),
    (
        "Microsoft",
        "OnlineServicesNCE",
        "CFQ7TTC0LCHC:0002",
        "Microsoft 365 Business Premium",
        "P1M",
        "monthly",
        "26.40",
    ),
    (
        "Microsoft",
        "OnlineServicesNCE",
        "CFQ7TTC0LCHC:0002",
        "Microsoft 365 Business Premium",
        "P1Y",
        "monthly",
        "22.00",
    ),
    (
        "Microsoft",
        "OnlineServicesNCE",
        "CFQ7TTC0LCHC:0002",
        "Microsoft 365 Business Premium",
        "P1Y",
        "annual",
        "264.00",
    ),
    ("Microsoft", "OnlineServicesNCE", "CFQ7TTC0LF8Q:0001", "Microsoft 365 E3", "P1Y", "monthly", "36.00"),
    ("Microsoft", "OnlineServicesNCE", "CFQ7TTC0LH16:0001", "Exchange Online (Plan 1)", "P1M", "monthly", "4.80"),
    ("Microsoft", "OnlineServicesNCE", "CFQ7TTC0RM8K:0001", "Microsoft Teams Essentials", "P1Y", "annual", "48.00"),
    (
        "Microsoft",
        "OnlineServicesNCE",
        "CFQ7TTC0J203:0002",
        "Windows 365 Business 2 vCPU, 4 GB, 128 GB",
        "P1M",
        "monthly",
        "37.20",
    ),
    (
        "Microsoft",
        "Software",
        "DG7GMGF0D7FV:0002",
        "Office LTSC Professional Plus 2021",
        "Perpetual",
        "one_time",
        "439.00",
    ),
    (
        "Microsoft",
        "Software",
        "DG7GMGF0D65N:0003",
        "Windows Server 2022 Standard - 16 Core License Pack",
        "Perpetual",
        "one_time",
        "1069.00",
    ),
    ("Microsoft", "Azure", "DZH318Z0BQ3Q:0001", "Azure plan", "P1M", "monthly", "120.00"),
    (
        "Acronis",
        "Subscription",
        "ACR-CPC-WS-STD",
        "Acronis Cyber Protect Cloud - Workstation Standard",
        "P1M",
        "monthly",
        "3.10",
    ),
    (
        "Acronis",
        "Subscription",
        "ACR-CPC-SRV-ADV",
        "Acronis Cyber Protect Cloud - Server Advanced with Disaster Recovery and Email Archiving",
        "P1M",
        "monthly",
        "24.50",
    ),
    ("Adobe", "Subscription", "65304522BA01A12", "Adobe Acrobat Pro for teams", "P1Y", "annual", "239.88"),
    ("Adobe", "Subscription", "65304886BA01A12", "Adobe Creative Cloud All Apps for teams", "P1Y", "monthly", "89.99"),
    ("Dropbox", "Subscription", "DBX-BUS-STD", "Dropbox Business Standard", "P1M", "monthly", "15.00"),
    ("Veeam", "Subscription", "V-VBO365-0U-SU1MP-00", "Veeam Backup for Microsoft 365", "P1M", "monthly", "2.40"),
    (
        "Bitdefender",
        "Subscription",
        "BD-GZ-BS-EP",
        "Bitdefender GravityZone Business Security",
        "P1Y",
        "annual",
        "28.99",
    ),
    ("Google", "Subscription", "GWS-BUS-STD", "Google Workspace Business Standard", "P1M", "monthly", "14.40"),
]

# Customers whose names must exercise matching and escaping, always present for the pilot partner.
SPECIAL_CUSTOMERS = [
    'O\'Brien "IT" & Co',
    "Café Müller GmbH",
    "Smith & Sons Plumbing",
    "contoso pharmacy",
    "Northwind Traders",
    "ACME Corporation",
    "Zürich Bäckerei AG",
    "Tailwind Dental, LLC",
]

PREFIXES = [
    "Alpine",
    "Blue Harbor",
    "Cedar",
    "Summit",
    "Riverbend",
    "Oakridge",
    "Silverline",
    "Redwood",
    "Harborview",
    "Maple",
    "Evergreen",
    "Granite",
    "Lakeside",
    "Northstar",
    "Pinecrest",
    "Bright Path",
    "Clearwater",
    "Ironwood",
    "Meadow",
    "Sterling",
    "Bayside",
    "Crescent",
    "Horizon",
    "Keystone",
    "Lighthouse",
    "Mountainview",
    "Orchard",
    "Prairie",
    "Quarry",
    "Sagebrush",
    "Timberline",
    "Westfield",
    "Zenith",
    "Aurora",
    "Beacon",
    "Canyon",
    "Driftwood",
    "Falcon",
    "Gateway",
    "Highland",
]
TRADES = [
    "Dental",
    "Logistics",
    "Law Group",
    "Accounting",
    "Veterinary Clinic",
    "Architects",
    "Realty",
    "Engineering",
    "Pharmacy",
    "Construction",
    "Insurance",
    "Medical Center",
    "Bakery",
    "Motors",
    "Consulting",
    "Labs",
    "Brewing",
    "Outfitters",
    "Foods",
    "Marine",
]
SUFFIXES = ["", " LLC", " Inc.", " Ltd", " GmbH", " & Co", " Partners", " Group"]

PARTNERS = [
    # name, currency, timezone, pilot
    ("Contoso Managed Services", "USD", "America/New_York", True),
    ("Fabrikam IT Partners", "EUR", "Europe/Berlin", False),
    ("Tailspin Networks", "GBP", "Europe/London", False),
]
DISTRIBUTOR = "Northwind Cloud Distribution"

# username, role, tenant ("distributor" or partner index), password, first, last
USERS = [
    # username, role key (its name in the host: the PSA_ROLE_* settings), tenant, password, first, last name
    ("admin", "admin", None, "admin-demo-2026", "Ada", "Admin"),
    ("distributor", "distributor_admin", "distributor", "distributor-demo-2026", "Dana", "Distributor"),
    ("pilot.admin", "partner_admin", 0, "pilot-admin-demo-2026", "Pat", "Pilot"),
    ("pilot.viewer", "partner_viewer", 0, "pilot-viewer-demo-2026", "Val", "Viewer"),
    ("fabrikam.admin", "partner_admin", 1, "fabrikam-admin-demo-2026", "Fabian", "Kraft"),
    ("tailspin.admin", "partner_admin", 2, "tailspin-admin-demo-2026", "Tara", "Spin"),
]

MARKUP = Decimal("1.20")
