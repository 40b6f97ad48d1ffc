"""Plug the agent mesh into an orchestrator: catalogs per agent, the delegation guard and the
delegation resolvers of its child-run machinery."""

from __future__ import annotations

import dataclasses

from core.mesh.delegation import (
    MeshGuard,
    MeshLookup,
    WorkflowMeshes,
    delegation_resolver,
    mesh_catalogs,
)
from core.mesh.tree import SurfacingObserver
from core.orchestrator.engine import Orchestrator


def with_mesh(orchestrator: Orchestrator, meshes: WorkflowMeshes | None = None) -> Orchestrator:
    """The orchestrator with the workflows' agent meshes wired in; a child run that pauses
    for approval is announced on its waiting ancestors.

    Runs without an ``agent`` are untouched. Delegation needs child runs: when the
    orchestrator has no ``children``, agents are still confined to their tools but an
    ``ask_*`` call fails as having no executor.
    """
    meshes = meshes if meshes is not None else WorkflowMeshes()
    lookup: MeshLookup = meshes
    if orchestrator.children is not None:
        resolve = delegation_resolver(lookup)
        for name in meshes.ask_tool_names():
            orchestrator.children.resolvers.setdefault(name, resolve)
    return dataclasses.replace(
        orchestrator,
        catalogs=mesh_catalogs(orchestrator.catalogs, lookup),
        guard=MeshGuard(orchestrator.guard, lookup),
        observer=SurfacingObserver(orchestrator.observer, orchestrator.store),
    )
