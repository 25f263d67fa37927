"""Build fixtures/default/catalogue.json from the real service's catalogue.

Run once by a developer (``python tools/build_catalogue.py PATH/TO/catalogue.json``);
the simulator itself only ever reads the committed fixture.  The real data is
kept as the API returned it (including its odd characters), with three
additions: ``locale_names`` per language (English from the real catalogue, a
few translations added by hand), and Live games, which the real catalogue
lacks, made up by the simulator and flagged ``"simulated": true`` with codes
starting ``sim_live_``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "default" / "catalogue.json"

#: Hand-made provider names for languages 2-6 (ko, th, es, ja, pt); English falls back.
PROVIDER_LOCALES = {
    1: {2: "프라그마틱 플레이", 5: "プラグマティック・プレイ"},
    7: {2: "하바네로", 5: "ハバネロ"},
    15: {2: "스프리브", 5: "スプライブ"},
    16: {2: "핵쏘", 5: "ハックソー"},
}

LIVE_TITLES = [
    (
        "baccarat",
        "Live Baccarat",
        "라이브 바카라",
        "บาคาร่าสด",
        "Bacará en vivo",
        "ライブバカラ",
        "Bacará ao Vivo",
    ),
    (
        "speed_baccarat",
        "Speed Baccarat",
        "스피드 바카라",
        "บาคาร่าสปีด",
        "Bacará rápido",
        "スピードバカラ",
        "Bacará Rápido",
    ),
    (
        "blackjack",
        "Live Blackjack",
        "라이브 블랙잭",
        "แบล็คแจ็คสด",
        "Blackjack en vivo",
        "ライブブラックジャック",
        "Blackjack ao Vivo",
    ),
    (
        "roulette",
        "Live Roulette",
        "라이브 룰렛",
        "รูเล็ตสด",
        "Ruleta en vivo",
        "ライブルーレット",
        "Roleta ao Vivo",
    ),
    ("sicbo", "Live Sic Bo", "라이브 식보", "ไฮโลสด", "Sic Bo en vivo", "ライブシックボー", "Sic Bo ao Vivo"),
    (
        "dragon_tiger",
        "Dragon Tiger",
        "드래곤 타이거",
        "เสือมังกร",
        "Dragón Tigre",
        "ドラゴンタイガー",
        "Dragão Tigre",
    ),
]
#: Providers that get simulated live tables, and the date stamped on them.
LIVE_PROVIDERS = {1: "2024-03-01 00:00:00", 23: "2024-06-01 00:00:00"}


def build(source: Path) -> dict:
    real = json.loads(source.read_text(encoding="utf-8"))
    providers = []
    for p in real["providers"]:
        names = {"1": p.get("locale_name") or p["provider_name"]}
        names.update({str(k): v for k, v in PROVIDER_LOCALES.get(p["provider_id"], {}).items()})
        providers.append(
            {
                "provider_id": p["provider_id"],
                "provider_name": p["provider_name"],
                "locale_names": names,
                "status": p.get("status", 1),
            }
        )
    games = []
    for g in real["games"]:
        games.append(
            {
                "provider_id": g["provider_id"],
                "game_code": g["game_code"],
                "game_name": g["game_name"],
                "locale_names": {"1": g.get("locale_name") or g["game_name"]},
                "launch_enable": g.get("launch_enable", True),
                "category": g["category"],
                "reg_date": g["reg_date"],
            }
        )
    for provider_id, reg_date in LIVE_PROVIDERS.items():
        for code, *names in LIVE_TITLES:
            games.append(
                {
                    "provider_id": provider_id,
                    "game_code": f"sim_live_{code}",
                    "game_name": names[0],
                    "locale_names": {str(i + 1): name for i, name in enumerate(names)},
                    "launch_enable": True,
                    "category": "Live",
                    "reg_date": reg_date,
                    "simulated": True,
                }
            )
    return {
        "_source": "real service catalogue (17 providers, 1,586 games) plus simulated Live "
        "tables flagged 'simulated'; built by tools/build_catalogue.py",
        "providers": providers,
        "games": games,
    }


if __name__ == "__main__":
    data = build(Path(sys.argv[1]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(data['providers'])} providers, {len(data['games'])} games")
