# The import fixtures, for the CSV property test.
from tests.newsletters.conftest import import_csv  # noqa: F401
