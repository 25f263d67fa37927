"""The start-up banner: where everything is, and the tokens to use.

This is the one place the simulator prints secrets: a developer starting it
needs the agents' API tokens and, when one is generated, the admin token.
"""

from __future__ import annotations

import sys

from flask import Flask

from .domain.enums import AgentKind, WalletMode
from .http import simulator_of


def banner_text(app: Flask) -> str:
    sim = simulator_of(app)
    base = sim.settings.base_url
    settings = sim.settings
    exposure = "loopback only" if settings.loopback_only else "reachable from other hosts: token required"
    lines = [
        "",
        "scorpio-sim: Scorpio Play v4 API simulator",
        f"  listening on  {', '.join(settings.listening)}  ({exposure})",
        f"  main API      {base}/v4/...  (POST, Authorization: Bearer <API token>)",
        f"  back office   {base}/backoffice  (JSON API: {base}/admin/api/agents)",
    ]
    lines.append(f"  API docs      {base}/docs  (OpenAPI 3: {base}/openapi.json)")
    if sim.settings.control:
        lines.append(f"  test control  {base}/control  (health: {base}/control/health)")
    admin_token = app.config.get("SCORPIO_ADMIN_TOKEN")
    if admin_token:
        lines.append(f"  admin token   X-Admin-Token: {admin_token}")
    lines.append("  agents:")
    for agent in sim.world.store.all_agents():
        if agent.kind != AgentKind.AGENT:
            continue
        mode = agent.mode
        extra = f" -> {agent.settings.callback_url}" if mode == WalletMode.SEAMLESS else ""
        lines.append(f"    {agent.name:<16} {mode:<9} API token {agent.api_token}{extra}")
    lines.append("")
    return "\n".join(lines)


def print_banner(app: Flask) -> None:
    print(banner_text(app), file=sys.stderr, flush=True)
