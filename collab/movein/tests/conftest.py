from collab.movein.tests.vendors import directory_server

__all__ = ["directory_server"]
