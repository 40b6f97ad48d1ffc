"""Python functions as Paddock tools: a small procurement desk (``procurement``) whose tools are
plain typed functions, used by docs/python.md, the framework tutorials and their tests."""
