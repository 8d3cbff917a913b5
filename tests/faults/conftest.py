# The membership fixtures, for the webhook storm.
from tests.membership.conftest import plans  # noqa: F401
