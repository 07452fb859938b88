"""The forwarder, its branches, teams and staff, and the customer companies with their people.

All names and e-mail addresses are fictional (every address is under ``.example``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEMO_PASSWORD = "demo-Pass-2026"

FORWARDER = {"code": "HSL", "name": "Harbor & Sky Logistics", "country": "NL", "currency": "EUR"}

# code, name, UN/LOCODE, timezone
BRANCHES = [
    ("RTM", "Rotterdam", "NLRTM", "Europe/Amsterdam"),
    ("SHA", "Shanghai", "CNSHA", "Asia/Shanghai"),
    ("CHI", "Chicago", "USCHI", "America/Chicago"),
]

# team name -> branch code
TEAMS = {
    "Ocean Export": "SHA",
    "Ocean Import": "RTM",
    "Air Freight": "CHI",
    "Road & Customs": "RTM",
}

# email, full name, role, branch, team (None for no team), phone
STAFF = [
    ("agent@harborsky.example", "Olivia Agent", "ops_agent", "RTM", "Ocean Import", "+31 10 555 0101"),
    ("manager@harborsky.example", "Marco Manager", "ops_manager", "RTM", None, "+31 10 555 0102"),
    ("admin@harborsky.example", "Ada Admin", "admin", "RTM", None, "+31 10 555 0103"),
    ("sanne.devries@harborsky.example", "Sanne de Vries", "ops_agent", "RTM", "Ocean Import", "+31 10 555 0111"),
    ("pieter.jansen@harborsky.example", "Pieter Jansen", "ops_agent", "RTM", "Ocean Import", "+31 10 555 0112"),
    ("li.wei@harborsky.example", "Li Wei", "ops_agent", "SHA", "Ocean Export", "+86 21 5550 0121"),
    ("chen.jing@harborsky.example", "Chen Jing", "ops_agent", "SHA", "Ocean Export", "+86 21 5550 0122"),
    ("jamal.carter@harborsky.example", "Jamal Carter", "ops_agent", "CHI", "Air Freight", "+1 312 555 0131"),
    ("emily.novak@harborsky.example", "Emily Novak", "ops_agent", "CHI", "Air Freight", "+1 312 555 0132"),
    ("lukas.becker@harborsky.example", "Lukas Becker", "ops_agent", "RTM", "Road & Customs", "+31 10 555 0141"),
    ("ana.silva@harborsky.example", "Ana Silva", "ops_agent", "RTM", "Road & Customs", "+31 10 555 0142"),
]

TIMEZONE_BY_COUNTRY = {
    "GB": "Europe/London",
    "DE": "Europe/Berlin",
    "US": "America/Chicago",
    "SE": "Europe/Stockholm",
    "IT": "Europe/Rome",
    "AU": "Australia/Sydney",
    "CA": "America/Toronto",
    "CO": "America/Bogota",
    "NL": "Europe/Amsterdam",
    "IN": "Asia/Kolkata",
    "MX": "America/Monterrey",
}

VAT_RATE_BY_COUNTRY = {"GB": "0.20", "DE": "0.19", "NL": "0.21", "SE": "0.25", "IT": "0.22", "AU": "0.10", "CA": "0.05"}

# Fixed demo exchange rates: units of currency per USD.
FX_PER_USD = {"USD": "1.00", "EUR": "0.92", "GBP": "0.79", "SEK": "10.60", "AUD": "1.52", "CAD": "1.37"}


@dataclass(frozen=True)
class Cargo:
    description: str
    hs_code: str
    package_type: str
    un_number: str | None = None
    dg_class: str | None = None


@dataclass(frozen=True)
class Customer:
    code: str
    name: str
    country: str
    currency: str
    payment_terms_days: int
    address: str
    users: tuple[tuple[str, str, str], ...]  # email, full name, role
    # mode weights: ocean_fcl, ocean_lcl, air, road_ftl, road_ltl
    mode_weights: tuple[int, int, int, int, int]
    ocean_origins: tuple[str, ...]  # preferred ports of loading
    ocean_destinations: tuple[str, ...]
    air_origins: tuple[str, ...]
    air_destinations: tuple[str, ...]
    road_region: str
    cargo: tuple[Cargo, ...]
    po_format: str  # str.format with n=
    reefer: bool = False
    weight: float = 1.0  # share of shipments relative to other non-demo customers
    extra: dict = field(default_factory=dict)


CUSTOMERS: list[Customer] = [
    Customer(
        "ACME",
        "Acme Home Goods Ltd",
        "GB",
        "GBP",
        30,
        "Unit 4, Orwell Park, Ipswich IP3 9BF, United Kingdom",
        (("alice@acme.example", "Alice Archer", "customer_admin"), ("bob@acme.example", "Bob Baker", "customer_user")),
        (50, 15, 20, 8, 7),
        ("CNNGB", "CNSHA", "CNYTN", "VNSGN", "INNSA", "CNXMN"),
        ("GBFXT", "GBSOU"),
        ("PVG", "HKG", "CAN", "BOM"),
        ("LHR",),
        "eu",
        (
            Cargo("Stoneware dinnerware sets", "6912.00", "CT"),
            Cargo("Cotton bed linen", "6302.31", "CT"),
            Cargo("Stainless steel kitchen utensils", "8215.99", "CT"),
            Cargo("Scented candles", "3406.00", "CT"),
            Cargo("Bamboo storage baskets", "4602.11", "CT"),
            Cargo("Glass drinking tumblers", "7013.37", "CT"),
            Cargo("Upholstered dining chairs", "9401.61", "PX"),
            Cargo("Reed diffusers (flammable liquid)", "3307.49", "CT", "1266", "3"),
        ),
        "ACME-PO-{n:06d}",
    ),
    Customer(
        "NORD",
        "Nordwind Electronics GmbH",
        "DE",
        "EUR",
        45,
        "Am Sandtorkai 41, 20457 Hamburg, Germany",
        (
            ("nina@nordwind.example", "Nina Nord", "customer_admin"),
            ("omar@nordwind.example", "Omar Ost", "customer_user"),
        ),
        (40, 10, 35, 10, 5),
        ("CNYTN", "CNSHK", "TWKHH", "KRPUS", "CNSHA", "SGSIN"),
        ("DEHAM", "NLRTM", "DEBRV"),
        ("HKG", "TPE", "ICN", "SZX", "PVG"),
        ("FRA", "LEJ"),
        "eu",
        (
            Cargo("Printed circuit board assemblies", "8534.00", "CT"),
            Cargo("LED display panels", "8529.90", "CT"),
            Cargo("Switch-mode power supplies", "8504.40", "CT"),
            Cargo("Semiconductor components", "8542.39", "CS"),
            Cargo("Industrial sensors", "9026.20", "CT"),
            Cargo("Copper network cables", "8544.42", "PX"),
            Cargo("Lithium-ion battery packs", "8507.60", "CT", "3480", "9"),
        ),
        "4500{n:06d}",
    ),
    Customer(
        "PACF",
        "Pacific Fresh Foods Inc.",
        "US",
        "USD",
        30,
        "1200 Harbor Way, Oakland, CA 94607, United States",
        (
            ("maria.lopez@pacificfresh.example", "Maria Lopez", "customer_admin"),
            ("kevin.tran@pacificfresh.example", "Kevin Tran", "customer_user"),
        ),
        (70, 5, 20, 3, 2),
        ("USOAK", "USSEA", "USLAX"),
        ("JPTYO", "KRPUS", "HKHKG", "CNSHA", "TWKHH"),
        ("LAX",),
        ("NRT", "ICN", "HKG"),
        "na",
        (
            Cargo("Frozen salmon fillets", "0304.81", "CT"),
            Cargo("Fresh cherries", "0809.29", "CT"),
            Cargo("Almonds, shelled", "0802.12", "BG"),
            Cargo("Frozen blueberries", "0811.90", "CT"),
        ),
        "PF{n:07d}",
        reefer=True,
    ),
    Customer(
        "KIRU",
        "Kiruna Outdoor AB",
        "SE",
        "SEK",
        30,
        "Hamngatan 12, 411 14 Gothenburg, Sweden",
        (("erik.lind@kirunaoutdoor.example", "Erik Lind", "customer_admin"),),
        (55, 20, 15, 5, 5),
        ("VNSGN", "VNHPH", "CNXMN", "BDCGP"),
        ("SEGOT",),
        ("SGN", "PVG"),
        ("AMS", "FRA"),
        "eu",
        (
            Cargo("Hiking jackets, synthetic", "6201.40", "CT"),
            Cargo("Trekking boots", "6404.11", "CT"),
            Cargo("Tents and sleeping bags", "6306.22", "CT"),
        ),
        "KO-{n:06d}",
    ),
    Customer(
        "LUMA",
        "Luma Illuminazione S.r.l.",
        "IT",
        "EUR",
        60,
        "Via Mecenate 76, 20138 Milano, Italy",
        (
            ("giulia.rossi@luma.example", "Giulia Rossi", "customer_admin"),
            ("marco.bianchi@luma.example", "Marco Bianchi", "customer_user"),
        ),
        (45, 20, 15, 10, 10),
        ("CNYTN", "CNNGB", "CNSHK"),
        ("ITGOA",),
        ("HKG", "CAN"),
        ("MXP",),
        "eu",
        (
            Cargo("LED lamps", "8539.52", "CT"),
            Cargo("Aluminium light fittings", "9405.11", "CT"),
            Cargo("Glass lamp shades", "9405.91", "CT"),
        ),
        "LU{n:06d}",
    ),
    Customer(
        "BLUE",
        "Bluewater Marine Supplies Pty Ltd",
        "AU",
        "AUD",
        30,
        "18 Botany Road, Alexandria NSW 2015, Australia",
        (
            ("jack.wilson@bluewater.example", "Jack Wilson", "customer_admin"),
            ("olivia.chen@bluewater.example", "Olivia Chen", "customer_user"),
        ),
        (55, 25, 20, 0, 0),
        ("CNSHA", "CNNGB", "KRPUS", "SGSIN"),
        ("AUSYD", "AUMEL"),
        ("PVG", "SIN"),
        ("SYD",),
        "",
        (
            Cargo("Outboard motor parts", "8409.91", "CT"),
            Cargo("Marine ropes, polypropylene", "5607.49", "BE"),
            Cargo("Anchors and chains", "7316.00", "PX"),
            Cargo("Marine paint", "3208.90", "DR", "1263", "3"),
        ),
        "BW{n:06d}",
    ),
    Customer(
        "MAPL",
        "Maple Leaf Furniture Co.",
        "CA",
        "CAD",
        30,
        "250 Industrial Parkway, Toronto ON M8Z 5V6, Canada",
        (
            ("sarah.tremblay@mapleleaf.example", "Sarah Tremblay", "customer_admin"),
            ("liam.roy@mapleleaf.example", "Liam Roy", "customer_user"),
            ("noah.gagnon@mapleleaf.example", "Noah Gagnon", "customer_user"),
        ),
        (55, 15, 10, 12, 8),
        ("VNSGN", "CNYTN", "MYPKG", "IDTPP"),
        ("CAVAN", "CAMTR"),
        ("SGN",),
        ("YYZ",),
        "na",
        (
            Cargo("Solid wood dining tables", "9403.60", "PX"),
            Cargo("Upholstered sofas", "9401.61", "PX"),
            Cargo("Rattan garden furniture", "9401.52", "PX"),
        ),
        "MLF-{n:06d}",
    ),
    Customer(
        "ANDE",
        "Andes Coffee Exporters S.A.S.",
        "CO",
        "USD",
        21,
        "Carrera 43A 1-50, Medellin, Colombia",
        (("camila.restrepo@andescoffee.example", "Camila Restrepo", "customer_admin"),),
        (75, 10, 15, 0, 0),
        ("COCTG",),
        ("USNYC", "BEANR", "DEHAM", "USSAV"),
        ("BOG",),
        ("MIA", "JFK"),
        "",
        (
            Cargo("Green coffee beans", "0901.11", "BG"),
            Cargo("Roasted coffee", "0901.21", "CT"),
        ),
        "AC{n:06d}",
    ),
    Customer(
        "DELT",
        "Delta Pharma Distribution B.V.",
        "NL",
        "EUR",
        30,
        "Pharmaweg 8, 2165 AB Lisserbroek, Netherlands",
        (
            ("femke.bakker@deltapharma.example", "Femke Bakker", "customer_admin"),
            ("ruben.visser@deltapharma.example", "Ruben Visser", "customer_user"),
        ),
        (20, 10, 50, 10, 10),
        ("INNSA", "CNSHA"),
        ("NLRTM", "BEANR"),
        ("BOM", "DEL", "PVG"),
        ("AMS", "BRU", "LGG"),
        "eu",
        (
            Cargo("Generic pharmaceutical tablets", "3004.90", "CT"),
            Cargo("Active pharmaceutical ingredients", "2941.10", "DR"),
            Cargo("Medical diagnostic kits", "3822.19", "CT"),
            Cargo("Isopropyl alcohol disinfectant", "3808.94", "DR", "1219", "3"),
        ),
        "DP{n:07d}",
    ),
    Customer(
        "SURY",
        "Surya Textiles Pvt Ltd",
        "IN",
        "USD",
        45,
        "Plot 22, MIDC Bhiwandi, Thane 421302, India",
        (
            ("priya.sharma@suryatextiles.example", "Priya Sharma", "customer_admin"),
            ("arjun.mehta@suryatextiles.example", "Arjun Mehta", "customer_user"),
        ),
        (60, 20, 20, 0, 0),
        ("INNSA", "INMUN"),
        ("NLRTM", "USNYC", "GBFXT", "DEHAM"),
        ("BOM", "DEL"),
        ("LHR", "JFK", "FRA"),
        "",
        (
            Cargo("Cotton T-shirts", "6109.10", "CT"),
            Cargo("Woven cotton fabric", "5208.52", "BE"),
            Cargo("Terry towels", "6302.60", "CT"),
        ),
        "SUR/{n:06d}",
    ),
    Customer(
        "ORIO",
        "Orion Autopartes S.A. de C.V.",
        "MX",
        "USD",
        30,
        "Av. Industrial 1500, Apodaca, N.L. 66600, Mexico",
        (
            ("diego.hernandez@orionauto.example", "Diego Hernandez", "customer_admin"),
            ("sofia.garcia@orionauto.example", "Sofia Garcia", "customer_user"),
        ),
        (30, 5, 10, 40, 15),
        ("CNSHA", "KRPUS", "JPYOK"),
        ("MXZLO",),
        ("ICN", "NRT"),
        ("DFW",),
        "na",
        (
            Cargo("Brake assemblies", "8708.30", "PX"),
            Cargo("Wiring harnesses", "8544.30", "CT"),
            Cargo("Aluminium wheels", "8708.70", "PX"),
            Cargo("Airbag inflators", "8708.95", "CT", "3268", "9"),
        ),
        "OAP{n:07d}",
    ),
    Customer(
        "GLTI",
        "Great Lakes Tools Inc.",
        "US",
        "USD",
        30,
        "4400 W Ogden Ave, Chicago, IL 60623, United States",
        (
            ("mike.obrien@greatlakestools.example", "Mike O'Brien", "customer_admin"),
            ("jessica.kim@greatlakestools.example", "Jessica Kim", "customer_user"),
        ),
        (50, 15, 15, 12, 8),
        ("CNNGB", "CNSHA", "TWKHH", "VNHPH"),
        ("USLAX", "USLGB", "USNYC", "USSAV"),
        ("PVG", "TPE"),
        ("ORD",),
        "na",
        (
            Cargo("Cordless power drills", "8467.21", "CT"),
            Cargo("Hand tools, sets", "8206.00", "CT"),
            Cargo("Steel tool cabinets", "9403.20", "PX"),
            Cargo("Lithium-ion batteries packed with equipment", "8507.60", "CT", "3481", "9"),
        ),
        "GLT{n:07d}",
    ),
]

# Counterparties (suppliers or buyers) by trade or road region.
COUNTERPARTIES = {
    "east_asia": [
        "Ningbo Sunrise Housewares Co., Ltd.",
        "Shenzhen Brightway Electronics Co., Ltd.",
        "Dongguan Evergood Furniture Co., Ltd.",
        "Xiamen Harbour Stoneworks Co., Ltd.",
        "Qingdao Ocean Tyre Co., Ltd.",
        "Busan Precision Parts Co., Ltd.",
        "Kaohsiung Steel Fasteners Corp.",
        "Osaka Fine Ceramics K.K.",
        "Hong Kong Pearl Trading Ltd.",
        "Shanghai Lianhe Import & Export Co., Ltd.",
    ],
    "southeast_asia": [
        "Saigon Bamboo Crafts JSC",
        "Hanoi Lotus Textiles JSC",
        "Penang Micro Assembly Sdn Bhd",
        "Bangkok Golden Foods Co., Ltd.",
        "PT Jepara Teak Furniture",
        "Nexus Components Pte Ltd",
    ],
    "south_asia": [
        "Tiruppur Cotton Mills Pvt Ltd",
        "Mumbai Generic Pharma Ltd",
        "Colombo Tea Exporters (Pvt) Ltd",
        "Dhaka Knitwear Ltd",
    ],
    "middle_east": ["Gulf Polymers FZE", "Jeddah Dates Trading Co."],
    "north_europe": [
        "Rhein Maschinenbau GmbH",
        "Holland Flower Exports B.V.",
        "Scandi Design AB",
        "Flanders Chemicals NV",
        "Hanse Retail Distribution GmbH",
        "Brit Home Retail Ltd",
    ],
    "med": ["Valencia Citrus Export S.L.", "Milano Moda S.p.A.", "Aegean Olive Oil S.A.", "Atlas Textiles SARL"],
    "na_west": ["Pacific Coast Retail Inc.", "Golden Gate Distributors LLC", "Cascade Outdoor Supply Co."],
    "na_east": [
        "Atlantic Home Retail Inc.",
        "Empire Electronics Distribution LLC",
        "Gulf Coast Industrial Supply Co.",
        "Great Lakes Hardware Inc.",
    ],
    "latam": ["Cafe Sierra Nevada S.A.S.", "Santos Agro Export Ltda.", "Bajio Autopartes S.A. de C.V."],
    "oceania": ["Southern Cross Retail Pty Ltd", "Harbour City Hardware Pty Ltd"],
    "africa": ["Durban Fruit Exporters (Pty) Ltd"],
    "eu": [
        "Rhein Maschinenbau GmbH",
        "Holland Flower Exports B.V.",
        "Alpen Logistikzentrum GmbH",
        "Vistula Home Products Sp. z o.o.",
        "Lyon Textile Distribution SAS",
        "Midlands Retail Supply Ltd",
    ],
    "na": [
        "Midwest Distribution Center LLC",
        "Lone Star Retail Supply Inc.",
        "Motor City Components LLC",
        "Ontario Home Furnishings Ltd",
        "Bajio Autopartes S.A. de C.V.",
    ],
}

STREETS = [
    "Industrial Road",
    "Harbour Avenue",
    "Logistics Park",
    "Commerce Street",
    "Export Zone Road",
    "Airport Cargo Road",
    "Free Trade Zone Avenue",
    "Distribution Way",
]
