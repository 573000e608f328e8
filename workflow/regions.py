"""Kazakhstan's regions: 17 oblasts and 3 cities of republican significance."""

from __future__ import annotations

REGIONS: dict[str, str] = {
    "ABY": "Abai oblast",
    "AKM": "Akmola oblast",
    "AKT": "Aktobe oblast",
    "ALM": "Almaty oblast",
    "ATY": "Atyrau oblast",
    "VKO": "East Kazakhstan oblast",
    "ZHA": "Zhambyl oblast",
    "ZHT": "Zhetysu oblast",
    "ZKO": "West Kazakhstan oblast",
    "KAR": "Karaganda oblast",
    "KOS": "Kostanay oblast",
    "KZY": "Kyzylorda oblast",
    "MAN": "Mangystau oblast",
    "PAV": "Pavlodar oblast",
    "SKO": "North Kazakhstan oblast",
    "TUR": "Turkistan oblast",
    "ULY": "Ulytau oblast",
    "AST": "Astana",
    "ALA": "Almaty",
    "SHY": "Shymkent",
}
