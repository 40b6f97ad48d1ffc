"""The agent mesh: small domain agents declared as data, delegated to as tools.

See docs/agents.md. Profiles live with their scenario (``Scenario.agents_dir``); the mesh is
wired into every orchestrator by :func:`with_mesh` and runs in one process with
:class:`LocalMesh`.
"""

from core.mesh.delegation import (
    MeshGuard,
    ScenarioMeshes,
    ask_tool,
    delegation_resolver,
    mesh_catalogs,
)
from core.mesh.local import LocalMesh, memory_queues
from core.mesh.profiles import (
    AgentMesh,
    AgentProfile,
    ProfileBudget,
    act_as,
    load_mesh,
    load_profile,
)
from core.mesh.tree import decide, pending_approvals, walk
from core.mesh.wiring import with_mesh

__all__ = [
    "AgentMesh",
    "AgentProfile",
    "LocalMesh",
    "MeshGuard",
    "ProfileBudget",
    "ScenarioMeshes",
    "act_as",
    "ask_tool",
    "decide",
    "delegation_resolver",
    "load_mesh",
    "load_profile",
    "memory_queues",
    "mesh_catalogs",
    "pending_approvals",
    "walk",
    "with_mesh",
]
