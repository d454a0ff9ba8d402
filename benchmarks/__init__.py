"""uat benchmarks: uat against scikit-learn, PyTorch and SciPy on the same work (issue 6)."""
