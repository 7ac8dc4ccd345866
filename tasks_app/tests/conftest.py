import pytest

from collab.testing import Org
from requests_app.models import CollaborationItem
from tasks_app.tests.support import consensus_item


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    """The template's example item at consensus, with two to-dos in its minutes."""
    return consensus_item(org)
