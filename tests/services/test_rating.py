"""The rate engine with prices worked out by hand: chargeable weight, W/M, weight breaks, minimums, percent
surcharges, insurance on cargo value, currency rounding, validity edges and cards that cannot price a request."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal_app.services import rating
from portal_app.services.rating import CardRules, CargoPiece, ChargeRule, NoMatch, Priced
from tests.paths import PROJECT_ROOT

D = Decimal
READY = date(2026, 3, 10)


def card(mode: str, currency: str, *charges: ChargeRule, valid_from: date = date(2026, 3, 1),
         valid_to: date = date(2026, 3, 31)) -> CardRules:
    return CardRules(card_id=1, mode=mode, currency=currency, valid_from=valid_from, valid_to=valid_to,
                     transit_days=5, charges=charges)


def rule(code: str, basis: str, rate: str, **kw: object) -> ChargeRule:
    fixed = {k: (D(v) if isinstance(v, str) and k in ("min_quantity", "minimum_charge") else v) for k, v in kw.items()}
    return ChargeRule(code=code, description=code, basis=basis, rate=D(rate), **fixed)


AIR = card(
    "air", "EUR",
    rule("FRT", "per_kg", "4.80", min_quantity="0", minimum_charge="120"),
    rule("FRT", "per_kg", "3.90", min_quantity="45"),
    rule("FRT", "per_kg", "3.40", min_quantity="100"),
    rule("FRT", "per_kg", "3.05", min_quantity="300"),
    rule("FRT", "per_kg", "2.85", min_quantity="500"),
    rule("FRT", "per_kg", "2.60", min_quantity="1000"),
    rule("FSC", "per_kg", "0.95"),
    rule("SSC", "per_kg", "0.18"),
    rule("AWB", "per_shipment", "35"),
)
LCL = card(
    "ocean_lcl", "USD",
    rule("FRT", "per_wm", "62", minimum_charge="62"),
    rule("CFS", "per_wm", "28", minimum_charge="45"),
    rule("DOC", "per_shipment", "65"),
)
FCL = card(
    "ocean_fcl", "USD",
    rule("FRT", "per_container", "1850", size_type="22G1"),
    rule("FRT", "per_container", "3050", size_type="45G1"),
    rule("BAF", "per_container", "420"),
    rule("THC", "per_container", "285"),
    rule("DOC", "per_shipment", "65"),
    rule("INS", "percent", "0.35", minimum_charge="35", percent_of="cargo_value", service="insurance"),
    rule("DLV", "per_container", "500", service="delivery"),
)
LTL = card(
    "road_ltl", "EUR",
    rule("FRT", "per_kg", "0.21", min_quantity="0", minimum_charge="95"),
    rule("FRT", "per_kg", "0.16", min_quantity="1000"),
    rule("FSC", "percent", "12", percent_of="freight"),
)


def price(c: CardRules, *pieces: CargoPiece, ready: date = READY, services: tuple[str, ...] = (),
          value: str | None = None, value_currency: str | None = None,
          per_usd: dict[str, Decimal] | None = None) -> Priced | NoMatch:
    cargo = rating.measure(pieces, cargo_value=D(value) if value else None, cargo_currency=value_currency)
    return rating.price_card(c, cargo, ready_date=ready, services=services, per_usd=per_usd)


def amounts(p: Priced | NoMatch) -> dict[str, Decimal]:
    assert isinstance(p, Priced), p
    out: dict[str, Decimal] = {}
    for ln in p.lines:
        out[ln.code] = out.get(ln.code, D(0)) + ln.amount
    return out


def pallets(n: int, length: str, width: str, height: str, kg: str) -> CargoPiece:
    return CargoPiece(packages=n, length_cm=D(length), width_cm=D(width), height_cm=D(height), weight_kg=D(kg))


# ---------------------------------------------------------------------------------------------------- air


def test_air_chargeable_weight_is_the_volume_weight_when_bulkier():
    # 3 x 120x80x100 cm = 2,880,000 cm3 / 6000 = 480 kg > 250 kg actual; 300 kg break (3.05)
    p = price(AIR, pallets(3, "120", "80", "100", "250"))
    assert amounts(p) == {"FRT": D("1464.00"), "FSC": D("456.00"), "SSC": D("86.40"), "AWB": D("35.00")}
    assert p.total == D("2041.40")
    assert p.lines[0].quantity == D("480.000")


def test_air_chargeable_weight_rounds_up_to_the_next_half_kilogram():
    assert rating.air_chargeable_kg(D("20"), D("0.2")) == D("33.500")  # 200,000 cm3 / 6000 = 33.33 -> 33.5
    assert rating.air_chargeable_kg(D("99.2"), D("0.06")) == D("99.500")
    assert rating.air_chargeable_kg(D("100"), D("0")) == D("100.000")
    # 99.5 kg: the 45 kg break applies (3.90); FSC 0.95 x 99.5 = 94.525 rounds half-up to 94.53
    p = price(AIR, pallets(1, "50", "40", "30", "99.2"))
    assert amounts(p) == {"FRT": D("388.05"), "FSC": D("94.53"), "SSC": D("17.91"), "AWB": D("35.00")}
    assert p.total == D("535.49")


def test_weight_break_applies_from_its_lower_bound():
    p = price(AIR, pallets(1, "20", "20", "20", "100"))  # exactly 100 kg: the 100 kg break
    assert amounts(p)["FRT"] == D("340.00")
    assert p.total == D("488.00")
    assert "100+ kg break" in p.lines[0].description


def test_minimum_charge_lifts_a_small_shipment():
    p = price(AIR, pallets(1, "20", "20", "20", "10"))  # 10 kg x 4.80 = 48 < 120 minimum
    assert amounts(p) == {"FRT": D("120.00"), "FSC": D("9.50"), "SSC": D("1.80"), "AWB": D("35.00")}
    assert p.total == D("166.30")


# ---------------------------------------------------------------------------------------------------- LCL


def test_lcl_charges_the_greater_of_cubic_metres_and_tonnes():
    # 4 x 120x100x150 = 7.2 m3 against 3.1 t: 7.2 W/M
    p = price(LCL, pallets(4, "120", "100", "150", "3100"))
    assert amounts(p) == {"FRT": D("446.40"), "CFS": D("201.60"), "DOC": D("65.00")}
    assert p.total == D("713.00")
    # 1 m3 against 2.5 t: 2.5 W/M
    p = price(LCL, pallets(1, "100", "100", "100", "2500"))
    assert amounts(p) == {"FRT": D("155.00"), "CFS": D("70.00"), "DOC": D("65.00")}
    assert rating.revenue_tonnes(D("2500"), D("1")) == D("2.500")


def test_lcl_minimums_per_charge():
    p = price(LCL, pallets(1, "50", "40", "30", "20"))  # 0.06 W/M
    assert amounts(p) == {"FRT": D("62.00"), "CFS": D("45.00"), "DOC": D("65.00")}
    assert p.total == D("172.00")


# ---------------------------------------------------------------------------------------------------- FCL


def containers(**by_type: int) -> list[CargoPiece]:
    return [CargoPiece(container_size_type=t, container_count=n, weight_kg=D(10000) * n) for t, n in by_type.items()]


def test_fcl_per_container_by_size_type_and_for_every_container():
    p = price(FCL, *containers(**{"45G1": 2, "22G1": 1}))
    assert amounts(p) == {"FRT": D("7950.00"), "BAF": D("1260.00"), "THC": D("855.00"), "DOC": D("65.00")}
    assert p.total == D("10130.00")
    assert {ln.description for ln in p.lines if ln.code == "FRT"} == {"FRT, 45G1", "FRT, 22G1"}


def test_services_and_insurance_as_percent_of_cargo_value():
    p = price(FCL, *containers(**{"45G1": 2, "22G1": 1}), services=("insurance", "delivery"), value="50000",
              value_currency="USD")
    got = amounts(p)
    assert got["INS"] == D("175.00")  # 0.35 % of 50,000
    assert got["DLV"] == D("1500.00")
    assert p.total == D("11805.00")
    assert p.missing_services == ()
    # a small cargo value: 0.35 % of 5,000 = 17.50, raised to the 35.00 minimum
    assert amounts(price(FCL, *containers(**{"22G1": 1}), services=("insurance",), value="5000",
                         value_currency="USD"))["INS"] == D("35.00")


def test_insurance_converts_the_cargo_value_into_the_card_currency():
    p = price(FCL, *containers(**{"22G1": 1}), services=("insurance",), value="10000", value_currency="EUR",
              per_usd={"USD": D("1"), "EUR": D("0.92")})
    assert amounts(p)["INS"] == D("38.04")  # 10,000 / 0.92 = 10,869.57 USD x 0.35 % = 38.0435
    p = price(FCL, *containers(**{"22G1": 1}), services=("insurance",), value="10000", value_currency="GBP",
              per_usd={"USD": D("1")})
    assert "INS" not in amounts(p)
    assert any("no exchange rate from GBP to USD" in n for n in p.notes)


def test_service_charges_only_when_asked_and_missing_services_reported():
    p = price(FCL, *containers(**{"22G1": 1}))
    assert "DLV" not in amounts(p) and "INS" not in amounts(p)
    p = price(FCL, *containers(**{"22G1": 1}), services=("customs", "delivery"))
    assert amounts(p)["DLV"] == D("500.00")
    assert p.missing_services == ("customs",)


def test_fcl_card_without_a_rate_for_the_size_type_does_not_match():
    result = price(FCL, *containers(**{"42G1": 1, "22G1": 1}))
    assert isinstance(result, NoMatch)
    assert "42G1" in result.reason


# ---------------------------------------------------------------------------------------------------- road


def test_road_groupage_weight_breaks_and_fuel_as_percent_of_freight():
    p = price(LTL, pallets(2, "100", "100", "100", "1500"))  # 1500 kg vs 2 m3 x 333 = 666 kg
    assert amounts(p) == {"FRT": D("240.00"), "FSC": D("28.80")}
    assert p.total == D("268.80")
    p = price(LTL, pallets(3, "100", "100", "100", "300"))  # 3 m3 x 333 = 999 kg
    assert amounts(p) == {"FRT": D("209.79"), "FSC": D("25.17")}
    assert p.total == D("234.96")
    p = price(LTL, pallets(1, "50", "50", "40", "100"))  # 21.00 < 95 minimum; 12 % of 95
    assert amounts(p) == {"FRT": D("95.00"), "FSC": D("11.40")}


def test_full_truck_is_priced_per_shipment():
    ftl = card("road_ftl", "EUR", rule("FRT", "per_shipment", "1480"), rule("TOLL", "per_shipment", "145"))
    p = price(ftl, pallets(26, "120", "80", "150", "18000"))
    assert p.total == D("1625.00")


# ---------------------------------------------------------------------------------------------------- money


def test_currency_rounding_by_minor_units():
    assert rating.round_money(D("10.005"), "USD") == D("10.01")
    assert rating.round_money(D("10.004"), "EUR") == D("10.00")
    assert rating.round_money(D("2.5"), "JPY") == D("3")
    assert rating.round_money(D("1.0005"), "KWD") == D("1.001")
    assert rating.format_money("JPY", D("3704")) == "JPY 3,704"
    assert rating.format_money("USD", D("1234.5")) == "USD 1,234.50"
    yen = card("air", "JPY", rule("FRT", "per_kg", "1234.5", min_quantity="0"))
    p = price(yen, pallets(1, "10", "10", "10", "3"))  # 3 kg x 1234.5 = 3703.5 -> 3704 yen
    assert p.total == D("3704") and p.total.as_tuple().exponent == 0


# ---------------------------------------------------------------------------------------------------- matching


@pytest.mark.parametrize(("ready", "matches"), [
    (date(2026, 2, 28), False),
    (date(2026, 3, 1), True),  # first day included
    (date(2026, 3, 31), True),  # last day included
    (date(2026, 4, 1), False),
])
def test_validity_edges_are_inclusive(ready, matches):
    result = price(LCL, pallets(1, "100", "100", "100", "100"), ready=ready)
    assert isinstance(result, Priced) is matches
    if not matches:
        assert "not on" in result.reason


def test_a_card_without_freight_for_the_cargo_does_not_match():
    surcharges_only = card("air", "EUR", rule("FSC", "per_kg", "0.95"), rule("AWB", "per_shipment", "35"))
    assert isinstance(price(surcharges_only, pallets(1, "50", "50", "50", "10")), NoMatch)
    assert isinstance(price(FCL), NoMatch)  # FCL card, no containers


# ---------------------------------------------------------------------------------------------------- properties


dims = st.decimals(min_value=D("1"), max_value=D("300"), places=1)
weights = st.decimals(min_value=D("0.5"), max_value=D("20000"), places=1)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 40), length=dims, width=dims, height=dims, kg=weights,
       currency=st.sampled_from(["EUR", "USD", "JPY"]))
def test_totals_are_exact_sums_of_rounded_lines(n, length, width, height, kg, currency):
    c = CardRules(1, "air", currency, date(2026, 1, 1), date(2026, 12, 31), 2, AIR.charges)
    p = price(c, CargoPiece(packages=n, length_cm=length, width_cm=width, height_cm=height, weight_kg=kg))
    assert isinstance(p, Priced)
    assert p.total == sum(ln.amount for ln in p.lines)
    digits = rating.currency_digits(currency)
    assert all(-ln.amount.as_tuple().exponent <= digits for ln in p.lines)
    chargeable = p.lines[0].quantity
    volume_kg = length * width * height * n / 6000
    assert chargeable >= kg and chargeable >= volume_kg
    assert chargeable - max(kg, volume_kg) < D("0.5")
    assert (chargeable * 2) == (chargeable * 2).to_integral_value()
    assert p.total >= D("120") + D(35)  # never below the freight minimum plus the AWB fee


def test_trade_codes_match_the_reference_files():
    """The form's Incoterms and container types are the ones in the project's reference data (seed/data/)."""
    import csv

    from portal_app.services import trade_codes

    data = PROJECT_ROOT / "seed" / "data"
    with open(data / "incoterms_2020.csv", newline="", encoding="utf-8") as fh:
        terms = {r["code"]: r for r in csv.DictReader(line for line in fh if not line.startswith("#"))}
    assert set(trade_codes.INCOTERMS) == set(terms)
    assert {c for c, r in terms.items() if r["mode"] != "any"} == trade_codes.SEA_ONLY_INCOTERMS == {
        "FAS", "FOB", "CFR", "CIF"}
    assert all(trade_codes.INCOTERMS[c].name == r["name"] for c, r in terms.items())
    with open(data / "iso6346_size_types.csv", newline="", encoding="utf-8") as fh:
        sizes = {r["size_type_code"] for r in csv.DictReader(line for line in fh if not line.startswith("#"))}
    assert set(trade_codes.SIZE_TYPES) == sizes
    assert [t.code for t in trade_codes.incoterms_for_mode("air")] == ["EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP"]
    assert trade_codes.normalize_un_number("UN 1263") == "1263" and trade_codes.normalize_un_number("126") is None
