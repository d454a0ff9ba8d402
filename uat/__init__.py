"""uat: put the universal approximation theorems of neural networks to the test."""

__version__ = "0.1.0"
