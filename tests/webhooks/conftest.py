from tests.partners.conftest import operator

__all__ = ["operator"]
