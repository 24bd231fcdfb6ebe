from tests.passes.conftest import holder, merchant

__all__ = ["holder", "merchant"]
