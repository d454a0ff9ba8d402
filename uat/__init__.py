"""uat: put the universal approximation theorems of neural networks to the test.

Notebook use mirrors the command line::

    import uat
    df = uat.run("width", scale="smoke", jobs=2)   # train what is missing, return the table
    df = uat.load("width")                          # read a stored table

`uat.run` and `uat.load` are uat.api's, with their own signatures and docstrings (`uat.run?`);
they are imported on first use, so `import uat` stays light.
"""

__version__ = "0.3.0"
__all__ = ["load", "run"]


def __getattr__(name: str):
    if name in __all__:
        from uat import api

        return getattr(api, name)
    raise AttributeError(f"module 'uat' has no attribute {name!r}")
