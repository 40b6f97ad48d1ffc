"""The agent mesh: small domain agents declared as data, delegated to as tools.

See docs/agents.md. Profiles live with their workflow (``Workflow.agents_dir``); the mesh is
wired into every orchestrator by :func:`with_mesh` and runs in one process with
``paddock.local.mesh.LocalMesh``.
"""

from core.mesh.delegation import (
    MeshGuard,
    WorkflowMeshes,
    ask_tool,
    delegation_resolver,
    mesh_catalogs,
)
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
    "MeshGuard",
    "ProfileBudget",
    "WorkflowMeshes",
    "act_as",
    "ask_tool",
    "decide",
    "delegation_resolver",
    "load_mesh",
    "load_profile",
    "mesh_catalogs",
    "pending_approvals",
    "walk",
    "with_mesh",
]
