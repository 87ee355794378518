"""What a resident can report, and what each choice becomes: team, deadlines, title, and the
sensors whose open work orders at the same place it joins instead of opening a second one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.vocabulary import Category, Priority, Team


class ResidentCategory(StrEnum):
    LEAK = "leak"  # 漏水
    LIGHTS = "lights"  # 照明
    CHARGER = "charger"  # 充电桩
    GATE = "gate"  # 道闸
    CLEANING = "cleaning"  # 保洁
    OTHER = "other"  # 其他


@dataclass(frozen=True, slots=True)
class Routing:
    team: Team
    priority: Priority
    category: Category
    title_zh: str
    title_en: str
    # Device types whose open sensor work order at the report's place is the same problem.
    joins: frozenset[str] = frozenset()


ROUTING: dict[ResidentCategory, Routing] = {
    ResidentCategory.LEAK: Routing(Team.REPAIR, Priority.P2, Category.SIMPLE, "居民报修：漏水",
                                   "Resident report: water leak", frozenset({"leak_sensor"})),
    ResidentCategory.LIGHTS: Routing(Team.REPAIR, Priority.P3, Category.SIMPLE,
                                     "居民报修：照明", "Resident report: lights",
                                     frozenset({"voice_light"})),
    ResidentCategory.CHARGER: Routing(Team.REPAIR, Priority.P3, Category.SIMPLE,
                                      "居民报修：充电桩", "Resident report: charger",
                                      frozenset({"ev_charger"})),
    ResidentCategory.GATE: Routing(Team.SAFETY, Priority.P3, Category.SIMPLE, "居民报修：道闸",
                                   "Resident report: gate", frozenset({"barrier_gate"})),
    ResidentCategory.CLEANING: Routing(Team.CLEANING, Priority.P4, Category.SIMPLE,
                                       "居民报修：保洁", "Resident report: cleaning"),
    ResidentCategory.OTHER: Routing(Team.REPAIR, Priority.P3, Category.SIMPLE, "居民报修：其他",
                                    "Resident report: other"),
}

LABELS_ZH: dict[ResidentCategory, str] = {
    ResidentCategory.LEAK: "漏水", ResidentCategory.LIGHTS: "照明",
    ResidentCategory.CHARGER: "充电桩", ResidentCategory.GATE: "道闸",
    ResidentCategory.CLEANING: "保洁", ResidentCategory.OTHER: "其他",
}
