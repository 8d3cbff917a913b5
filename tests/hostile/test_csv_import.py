"""Any file staff upload: the import ends done (bad rows reported) or refused, never a crash,
and a refused file writes nothing."""

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from newsletters.importing.stores import OrmStore, PostgresStore
from newsletters.models import ConsentEvent, Subscriber, SubscriberImport, Subscription
from tests.newsletters.conftest import report_rows

pytestmark = pytest.mark.django_db

HEADERS = [
    "Email Address,First Name,Last Name,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP",
    "email,active_subscription,expiry,plan,email_disabled,created_at",
    "email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,labels,tiers",
    "email,name",
    "",
]
cells = st.one_of(
    st.emails(),
    st.text(max_size=30),
    st.sampled_from(["", '"quoted, comma"', "=cmd|' /C calc'!A0", "2021-03-14 10:22:01", "true"]),
    st.text(alphabet='\r\n",;\t\x00', max_size=5),
)
rows = st.lists(st.lists(cells, max_size=9).map(",".join), max_size=15)
files = st.one_of(
    st.builds(
        lambda h, r, bom: ("\ufeff" if bom else "") + "\r\n".join([h, *r]),
        st.sampled_from(HEADERS),
        rows,
        st.booleans(),
    ),
    st.binary(max_size=400),
)


@pytest.fixture(params=["postgres", "orm"])
def store(request):
    return PostgresStore() if request.param == "postgres" else OrmStore()


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=files, basis=st.sampled_from(list(SubscriberImport.Basis)))
def test_any_uploaded_file_is_imported_or_refused_cleanly(import_csv, newsletters, content, basis):
    before = (
        Subscriber.objects.count(),
        Subscription.objects.count(),
        ConsentEvent.objects.count(),
    )
    imported = import_csv(content, [newsletters["daily-briefing"]], basis=basis)
    assert imported.status in {SubscriberImport.Status.DONE, SubscriberImport.Status.FAILED}
    after = (Subscriber.objects.count(), Subscription.objects.count(), ConsentEvent.objects.count())
    if imported.status == SubscriberImport.Status.FAILED:
        assert imported.error
        assert after == before  # a refused file writes nothing
    else:
        rows = report_rows(imported)
        added = sum(1 for row in rows if row["outcome"] == "added")
        assert after[0] - before[0] <= added
        for row in rows:  # a spreadsheet never runs a cell of the report
            assert not any(str(value).startswith(("=", "+", "-", "@")) for value in row.values())
