"""Paddock's fences inside other agent frameworks (optional extras).

* ``paddock.integrations.langgraph`` (extra ``langgraph``): a guard for LangGraph's
  ``ToolNode``; approvals through LangGraph's ``interrupt``.
* ``paddock.integrations.agents`` (extra ``agents``): guarded ``FunctionTool``s for the OpenAI
  Agents SDK; approvals through the SDK's approval interruptions.

Both are thin adapters over ``paddock.fence.Fence``. Nothing in ``core`` imports them.
"""
