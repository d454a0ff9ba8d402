"""uat: put the universal approximation theorems of neural networks to the test.

Notebook use mirrors the command line::

    import uat
    df = uat.run("width", scale="smoke", jobs=2)   # train what is missing, return the table
    df = uat.load("width")                          # read a stored table
"""

__version__ = "0.3.0"


def run(*args, **kwargs):
    """See uat.api.run."""
    from uat import api

    return api.run(*args, **kwargs)


def load(*args, **kwargs):
    """See uat.api.load."""
    from uat import api

    return api.load(*args, **kwargs)
