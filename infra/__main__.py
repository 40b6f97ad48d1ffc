"""Paddock's Pulumi program: read config, compose the per-cloud components, export outputs."""

from paddock_infra.program import main

main()
