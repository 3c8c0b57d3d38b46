"""A pure, seeded generator of demo organizations and supply chains (no database).

Planted ground truth: every supplier's tier under each sponsor is decided here by construction,
so tests can check that the tiers the platform derives from the links recover it exactly.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from sangsaeng.core import reference
from sangsaeng.core.ids import business_no_check_digit

# Share of manufacturing SMEs per KSIC division (roughly the national distribution of
# manufacturing establishments with 10+ employees: machinery, metal products, electronics,
# vehicles and plastics dominate).
DIVISION_WEIGHTS = {
    "10": 6,
    "11": 1,
    "13": 3,
    "14": 2,
    "15": 1,
    "16": 1,
    "17": 2,
    "18": 1,
    "19": 0.5,
    "20": 5,
    "21": 1,
    "22": 7,
    "23": 3,
    "24": 5,
    "25": 12,
    "26": 8,
    "27": 4,
    "28": 6,
    "29": 12,
    "30": 10,
    "31": 2,
    "32": 1,
    "33": 2,
    "34": 1,
}
# Share of manufacturing SMEs per 시·도 (Gyeonggi and the south-east industrial belt dominate).
REGION_WEIGHTS = {
    "41": 30,
    "48": 10,
    "47": 8,
    "28": 7,
    "44": 6,
    "26": 6,
    "11": 5,
    "27": 5,
    "43": 5,
    "31": 3,
    "52": 3,
    "46": 2,
    "29": 2,
    "30": 2,
    "51": 1.5,
    "36": 0.7,
    "50": 0.3,
}
_NAME_STEMS = (
    "대성",
    "동양",
    "한일",
    "세진",
    "삼우",
    "우진",
    "태광",
    "신흥",
    "성원",
    "한성",
    "금강",
    "영진",
    "동아",
    "대영",
    "화신",
    "일진",
    "경신",
    "유성",
    "명성",
    "청운",
    "보성",
    "진흥",
    "광명",
    "삼정",
    "해성",
    "새한",
    "덕산",
    "백산",
    "한솔",
    "대림",
    "두원",
    "서진",
    "정우",
    "미래",
    "태성",
    "동진",
    "한길",
    "은성",
    "제일",
    "상신",
    "대원",
    "천일",
    "경원",
    "부흥",
    "성진",
    "남양",
    "선진",
    "세원",
)
_INDUSTRY_WORDS = {
    "10": ("식품", "푸드"),
    "11": ("음료",),
    "13": ("섬유", "텍스"),
    "14": ("어패럴",),
    "15": ("피혁",),
    "16": ("목재",),
    "17": ("제지", "패키징"),
    "18": ("인쇄",),
    "19": ("정유",),
    "20": ("케미칼", "화학"),
    "21": ("제약", "바이오"),
    "22": ("플라스틱", "고무"),
    "23": ("세라믹", "요업"),
    "24": ("철강", "특수강", "메탈"),
    "25": ("금속", "정공", "단조"),
    "26": ("전자", "반도체", "일렉트로닉스"),
    "27": ("계측", "메디칼", "광학"),
    "28": ("전기", "전장", "파워"),
    "29": ("기계", "정밀", "엔지니어링"),
    "30": ("오토텍", "모터스", "오토파츠"),
    "31": ("조선", "에어로"),
    "32": ("가구",),
    "33": ("산업",),
    "34": ("테크",),
}
_LEGAL_FORMS = ("(주)", "주식회사 ", "", "")


@dataclass
class OrgSpec:
    key: str
    business_no: str
    name_ko: str
    kind: str
    ksic_code: str
    region_code: str
    size_class: str
    employees: int
    revenue_krw: int
    founded_year: int
    name_en: str | None = None


@dataclass
class DemoWorld:
    orgs: list[OrgSpec]
    links: list[tuple[str, str]]  # (buyer key, supplier key)
    planted_tiers: dict[str, dict[str, int]] = field(default_factory=dict)  # sponsor → key → tier


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def new_business_no(rng: random.Random, used: set[str], corporate: bool = True) -> str:
    while True:
        office = rng.randint(101, 899)
        kind = rng.randint(81, 88) if corporate else rng.randint(1, 79)
        serial = rng.randint(0, 9999)
        first = f"{office:03d}{kind:02d}{serial:04d}"
        number = first + str(business_no_check_digit(first))
        if number not in used:
            used.add(number)
            return number


def _groups_of(division: str) -> list[str]:
    groups = [
        e.code
        for e in reference.ksic_table().values()
        if e.level == "group" and e.parent == division
    ]
    return groups or [division]


def _sme(rng: random.Random, index: int, used_numbers: set[str], used_names: set[str]) -> OrgSpec:
    division = _weighted(rng, DIVISION_WEIGHTS)
    region = _weighted(rng, REGION_WEIGHTS)
    employees = int(min(299, max(3, math.exp(rng.gauss(math.log(28), 0.9)))))
    per_head = math.exp(rng.gauss(math.log(260_000_000), 0.45))  # revenue per employee, KRW
    revenue = int(employees * per_head // 1_000_000 * 1_000_000)
    size = "micro" if employees < 10 and revenue < 3_000_000_000 else "sme"
    while True:
        name = (
            rng.choice(_LEGAL_FORMS)
            + rng.choice(_NAME_STEMS)
            + rng.choice(_INDUSTRY_WORDS[division])
        )
        if name not in used_names:
            break
        name = f"{name} {reference.region(region).short_ko}"
        if name not in used_names:
            break
    used_names.add(name)
    return OrgSpec(
        key=f"sme-{index}",
        business_no=new_business_no(rng, used_numbers, corporate=rng.random() < 0.8),
        name_ko=name,
        kind="sme",
        ksic_code=rng.choice(_groups_of(division)),
        region_code=region,
        size_class=size,
        employees=employees,
        revenue_krw=revenue,
        founded_year=rng.randint(1975, 2022),
    )


SPONSORS = (
    # key, name, English name, KSIC, region, employees, revenue
    (
        "sponsor-steel",
        "한빛철강(주)",
        "Hanbit Steel Co., Ltd.",
        "241",
        "47",
        17_500,
        38_000_000_000_000,
    ),
    (
        "sponsor-power",
        "동해에너지(주)",
        "Donghae Energy Co., Ltd.",
        "35",
        "48",
        2_400,
        6_100_000_000_000,
    ),
    (
        "sponsor-elec",
        "미래전자(주)",
        "Mirae Electronics Co., Ltd.",
        "262",
        "41",
        9_800,
        21_000_000_000_000,
    ),
)
INSTITUTIONS = (
    # key, name, English name, kind, KSIC, region
    (
        "operator-smart",
        "스마트제조상생추진단",
        "Smart Manufacturing Win-Win Office",
        "operator",
        "84",
        "36",
    ),
    ("operator-coop", "상생협력재단", "Win-Win Cooperation Foundation", "operator", "94", "11"),
    ("adviser-firm", "상생경영자문단", "Shared-Growth Advisory Group", "other", "71", "11"),
    (
        "evaluator-org",
        "한국산업평가원",
        "Korea Industrial Evaluation Institute",
        "other",
        "72",
        "30",
    ),
    ("platform", "상생 플랫폼 운영사무국", "Sangsaeng Platform Office", "other", "63", "11"),
)


def generate(seed: int = 2026, sme_count: int = 320) -> DemoWorld:
    if sme_count < 300:
        raise ValueError("the demo needs at least 300 SMEs")
    rng = random.Random(seed)
    used_numbers: set[str] = set()
    used_names: set[str] = set()
    orgs: list[OrgSpec] = []
    for key, name, name_en, ksic, region, employees, revenue in SPONSORS:
        orgs.append(
            OrgSpec(
                key,
                new_business_no(rng, used_numbers),
                name,
                "sponsor",
                ksic,
                region,
                "large",
                employees,
                revenue,
                rng.randint(1950, 1990),
                name_en,
            )
        )
    for key, name, name_en, kind, ksic, region in INSTITUTIONS:
        orgs.append(
            OrgSpec(
                key,
                new_business_no(rng, used_numbers),
                name,
                kind,
                ksic,
                region,
                "sme",
                rng.randint(20, 200),
                rng.randint(2, 30) * 1_000_000_000,
                rng.randint(1990, 2015),
                name_en,
            )
        )
    smes = [_sme(rng, i, used_numbers, used_names) for i in range(sme_count)]
    orgs.extend(smes)

    keys = [s.key for s in smes]
    rng.shuffle(keys)
    # Per sponsor: ~5 % tier 1, ~9 % tier 2, ~14 % tier 3; the rest (~16 %) belong to no chain.
    sizes = (round(sme_count * 0.05), round(sme_count * 0.09), round(sme_count * 0.14))
    links: list[tuple[str, str]] = []
    planted: dict[str, dict[str, int]] = {}
    cursor = 0
    for sponsor_key, *_rest in SPONSORS:
        tiers: list[list[str]] = []
        for tier, size in enumerate(sizes, start=1):
            members = keys[cursor : cursor + size]
            cursor += size
            for supplier in members:
                buyer = sponsor_key if tier == 1 else rng.choice(tiers[-1])
                links.append((buyer, supplier))
                # Some suppliers sell to two buyers of the same tier: still one tier.
                if tier > 1 and rng.random() < 0.2:
                    other = rng.choice(tiers[-1])
                    if other != buyer:
                        links.append((other, supplier))
            tiers.append(members)
        planted[sponsor_key] = {k: t for t, members in enumerate(tiers, start=1) for k in members}

    # Tier-3 suppliers have no suppliers of their own, so extra edges into them change only their
    # own tiers, by construction: a shortcut (tier 3 → 2 under the same sponsor) and shared
    # suppliers (a tier-3 supplier of one sponsor also becomes tier 3 of another).
    sponsor_keys = [s[0] for s in SPONSORS]
    for index, sponsor_key in enumerate(sponsor_keys):
        own = planted[sponsor_key]
        tier1 = [k for k, t in own.items() if t == 1]
        tier2 = [k for k, t in own.items() if t == 2]
        tier3 = sorted(k for k, t in own.items() if t == 3)
        for leaf in rng.sample(tier3, 3):
            links.append((rng.choice(tier1), leaf))
            own[leaf] = 2
        other = planted[sponsor_keys[(index + 1) % len(sponsor_keys)]]
        other_tier3 = sorted(k for k, t in other.items() if t == 3)
        for leaf in rng.sample(other_tier3, 4):
            if leaf not in own:
                links.append((rng.choice(tier2), leaf))
                own[leaf] = 3
    return DemoWorld(orgs=orgs, links=list(dict.fromkeys(links)), planted_tiers=planted)
